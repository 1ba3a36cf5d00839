#pragma once
// Where a run's scanner came from, for the report: a source build's tarball, patches,
// compiler, suite and nmap-os-db origin (the image manifest's "source", see
// images/README.md), or the Debian package it was installed from.
#include <nlohmann/json.hpp>
#include <string>

#include "orchestrator/results/manifest.h"

namespace testbed::report {

/// The scanner image's provenance from a run manifest (its "images" object; the image
/// whose role is scanner): {"kind": "source", ...the manifest's source object...} or
/// {"kind": "package", "package": "nmap", "version": ...}; null when unknown.
nlohmann::json scanner_build(const nlohmann::json& run_manifest);
/// The same from a typed manifest.
nlohmann::json scanner_build(const results::Manifest& m);

/// One line for people: "source nmap-7.01-git-8425c1620.tar.xz (sha256 a512cff707c0…),
/// patches nmap-7.01-openssl-1.1.patch (sha256 …), gcc (Debian 10.2.1-6) 10.2.1, bullseye
/// buildd; nmap-os-db from nmap-common 7.91+dfsg1+really7.80+dfsg1-2" or "Debian package
/// nmap 7.91+dfsg1+really7.80+dfsg1-2 (bullseye)". Plain text (escape it for HTML).
std::string scanner_build_summary(const nlohmann::json& build);

/// The "Compiled with: …" line of a full `nmap --version` text, or "".
std::string compiled_with(const std::string& version_output);

}  // namespace testbed::report

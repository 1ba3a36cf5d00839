#pragma once
// Which scanner kind made a run: the one writer (manifest.json and plan.json entries,
// key "scanner_kind") and the one reader (a run directory; absent = "nmap", which every
// run before scanner kinds was). Kept in one place so the results Manifest module can
// take it over.
#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/result.h"

namespace testbed::scanners {

/// Sets "scanner_kind" in a manifest or a plan.json scanner entry.
void write_scanner_kind(nlohmann::json& record, std::string_view kind);

/// The kind a manifest (or plan entry) records: nullptr when it records none (a run from
/// before scanner kinds: Nmap) or one this build does not know.
const Kind* recorded_kind(const nlohmann::json& record);

/// The kind of the run in `run_dir`: its manifest.json's "scanner_kind", else (a run that
/// failed before its manifest) the plan.json entry of its label two levels up, else nmap.
/// Fails on a kind this build does not know.
util::Result<const Kind*> kind_of_run(const std::filesystem::path& run_dir);

}  // namespace testbed::scanners

#pragma once
// What a test may skip for: a host capability that is missing (not root, no libvirt
// daemon listening). Everything else that goes wrong, a failed connection to a daemon
// that IS there included, is a failure of the code under test and must fail the test.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace testbed::testing {

/// Why libvirt tests cannot run here ("" when they can): not root, or no libvirt daemon
/// socket (monolithic libvirtd or the modular virtlxcd/virtqemud).
inline std::string libvirt_missing() {
  if (::geteuid() != 0) return "needs root and a libvirt daemon";
  for (const char* s : {"/run/libvirt/libvirt-sock", "/run/libvirt/virtlxcd-sock",
                        "/run/libvirt/virtqemud-sock"})
    if (std::filesystem::exists(s)) return "";
  return "no libvirt daemon socket in /run/libvirt (run `make setup`)";
}

}  // namespace testbed::testing

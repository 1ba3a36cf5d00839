#pragma once
// Results directories for the nightly tests, on tests/report/results_builder.h.
#include <filesystem>
#include <string>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::nightly::testing {

namespace fs = std::filesystem;
using namespace testbed::report::testing;

inline const fs::path kTestbed = fs::path(TESTBED_BINARY_DIR) / "testbed";

/// results/unit/<name>: 7.80 and 7.93, `reps` complete runs each (7.93 scans two more ports).
inline fs::path complete_results(const fs::path& experiment_dir, const std::string& name,
                                 int reps = 1, std::vector<uint16_t> extra_780 = {}) {
  fs::path r = experiment_dir / name;
  write_plan(r, {"7.80", "7.93"}, reps);
  for (int rep = 1; rep <= reps; ++rep) {
    ScanSpec a{"7.80", rep};
    a.extra_ports = extra_780;
    write_run(r, a);
    ScanSpec b{"7.93", rep};
    b.extra_ports = {31337, 8888};
    write_run(r, b);
  }
  return r;
}

/// Marks run `version`/1 of `results` as interrupted (its manifest gone, failure.json).
inline void interrupt_run(const fs::path& results, const std::string& version) {
  fs::path run = results / version / "1";
  fs::remove(run / "manifest.json");
  write_text(run / "failure.json",
             R"({"status":"interrupted","stage":"scan","error":"interrupted"})");
}

/// The target a pointer names, as written (relative), or "" when there is none.
inline std::string link_of(const fs::path& experiment_dir, const std::string& name) {
  std::error_code ec;
  auto t = fs::read_symlink(experiment_dir / name, ec);
  return ec ? "" : t.string();
}

}  // namespace testbed::nightly::testing

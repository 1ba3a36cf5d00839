#pragma once
// The committed history fixtures (tests/nightly/fixtures/history/unit/): three nights of a
// two-version experiment. 20261201T020000Z complete (two repetitions: a noise floor);
// 20261202T020000Z complete, drift against the first night explained by one package of
// 7.80's scanner image (nmap-common), and 7.80/1 retried once after SIGABRT;
// 20261203T020000Z failed (7.93/2 failed at scan). make_history_fixtures() writes them
// again (TESTBED_REGENERATE=1 with HistoryFixtures.CommittedCopyIsWhatTheCodeWrites;
// report.html is a stub, history only links to it); the tests read the committed copy.
#include <filesystem>
#include <string>

#include "orchestrator/report/report.h"
#include "tests/nightly/fixtures.h"

namespace testbed::nightly::testing {

inline const fs::path kHistoryFixtures =
    fs::path(TESTBED_SOURCE_DIR) / "tests/nightly/fixtures/history/unit";

inline void set_scanner_packages(const fs::path& run, const std::string& nmap_common) {
  fs::path m = run / "manifest.json";
  auto j = nlohmann::json::parse(read_all(m));
  j["images"]["scanner"]["packages"] = {{"nmap", "7.80+dfsg1-2"}, {"nmap-common", nmap_common}};
  write_text(m, j.dump(2));
}

/// Writes the three nights into `exp` (RESULTS_ROOT/unit) with their reports; leaves only
/// what history reads and the reports (captures, csv/ and report.md removed).
inline void make_history_fixtures(const fs::path& exp) {
  fs::remove_all(exp);
  const std::string n1 = "20261201T020000Z", n2 = "20261202T020000Z", n3 = "20261203T020000Z";
  complete_results(exp, n1, 2);
  for (int rep : {1, 2}) set_scanner_packages(exp / n1 / "7.80" / std::to_string(rep), "7.80+dfsg1-2");
  complete_results(exp, n2, 2, {7777});
  for (int rep : {1, 2}) set_scanner_packages(exp / n2 / "7.80" / std::to_string(rep), "7.80+dfsg1-3");
  {
    fs::path m = exp / n2 / "7.80/1/manifest.json";
    auto j = nlohmann::json::parse(read_all(m));
    j["retries"] = {{{"attempt", 1},
                     {"stage", "scan"},
                     {"reason",
                      "nmap killed by signal 6 (SIGABRT): constraint_lookup_index: Assertion "
                      "`index < con->root->count' failed."},
                     {"at", 1764554400.5}}};
    write_text(m, j.dump(2));
  }
  complete_results(exp, n3, 2);
  for (int rep : {1, 2}) set_scanner_packages(exp / n3 / "7.80" / std::to_string(rep), "7.80+dfsg1-2");
  fs::path failed = exp / n3 / "7.93/2";
  fs::remove(failed / "manifest.json");
  write_text(failed / "failure.json",
             R"({"status":"failed","stage":"scan","error":"nmap exited with status 1"})");
  for (const auto& [night, base] :
       {std::pair{n1, std::string()}, std::pair{n2, n1}, std::pair{n3, n1}}) {
    report::ReportOptions o;
    if (!base.empty()) o.baseline = exp / base;
    auto r = report::write_report(exp / night, o);
    if (!r) throw std::runtime_error(r.error().message);
  }
  std::vector<fs::path> drop;
  for (const auto& e : fs::recursive_directory_iterator(exp)) {
    const std::string f = e.path().filename().string();
    if (f == "capture.pcap" || f == "phases.json" || f == "report.md" || f == "csv") drop.push_back(e.path());
  }
  for (const auto& p : drop) fs::remove_all(p);
  // history only links to report.html: a stub keeps the fixtures small.
  for (const auto& night : {n1, n2, n3})
    write_text(exp / night / "report.html",
               "<!DOCTYPE html><title>" + night + "</title><p>fixture: the figures are in report.json\n");
  // No path of the machine that made them: the experiment folder reads results/unit.
  for (const auto& night : {n1, n2, n3})
    for (const char* f : {"report.json"}) {
      std::string text = read_all(exp / night / f);
      for (size_t at; (at = text.find(exp.string())) != std::string::npos;)
        text.replace(at, exp.string().size(), "results/unit");
      write_text(exp / night / f, text);
    }
}

}  // namespace testbed::nightly::testing

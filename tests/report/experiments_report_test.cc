// Every experiment that the config loader accepts (what `testbed validate` and `testbed run`
// read) produces a report: its analysis settings, read back from the results directory's
// experiment copy, never fail at report time. Over the committed experiments/*.yaml and the
// experiment fuzz corpus (tests/fuzz/corpus/experiment), each with a synthetic results
// directory (results_builder.h) holding one run per scanner label.
#include <gtest/gtest.h>

#include "orchestrator/config/experiment.h"
#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

std::vector<fs::path> inputs() {
  std::vector<fs::path> v;
  fs::path src(TESTBED_SOURCE_DIR);
  for (const auto& d : {src / "experiments", src / "tests/fuzz/corpus/experiment"})
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_regular_file()) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

TEST(EveryValidExperiment, ProducesAReport) {
  auto t = util::TempDir::create("experiments-report");
  ASSERT_TRUE(t.ok()) << t.error().message;
  size_t accepted = 0, with_analysis = 0, committed = 0;
  for (const fs::path& file : inputs()) {
    std::string text = read_all(file);
    // Parsed as if it lay in experiments/ (as the fuzz target does), so topologies resolve.
    auto exp = config::parse_experiment(
        text, (fs::path(TESTBED_SOURCE_DIR) / "experiments" / file.filename()).string());
    if (!exp) continue;
    ++accepted;
    if (file.parent_path().filename() == "experiments") ++committed;
    if (text.find("analysis:") != std::string::npos) ++with_analysis;
    fs::path dir = t->path() / std::to_string(accepted);
    std::vector<std::string> labels;
    for (const auto& s : exp->scanners) labels.push_back(s.label);
    write_plan(dir, labels, 1);
    write_text(dir / "experiment.yaml", text);  // what the runner copies
    for (const auto& l : labels) write_run(dir, {l, 1});
    auto out = write_report(dir, ReportOptions{});
    EXPECT_TRUE(out.ok()) << file << ": " << out.error().message;
  }
  EXPECT_GE(committed, 10u);  // every committed experiment is valid
  EXPECT_GT(accepted, committed);
  EXPECT_GT(with_analysis, 0u);
}

}  // namespace
}  // namespace testbed::report

// History benchmark (not a timed test). Prints `name: value` lines: `testbed history` over
// N nights (default 1000; copies of the three committed fixture nights under new names),
// in process (load + HTML) and as the whole command, against a baseline measured in the
// same run: reading and JSON-parsing every file history reads (plan.json, the manifests,
// failure.json, report.json), the floor any reader of those files pays.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "orchestrator/nightly/history.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace fs = std::filesystem;
using testbed::nightly::history_html;
using testbed::nightly::load_history;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// exp/<name> for n nights, each a copy of one fixture night (cycling), named by day.
void make_nights(const fs::path& exp, int n) {
  const fs::path src = fs::path(TESTBED_SOURCE_DIR) / "tests/nightly/fixtures/history/unit";
  std::vector<fs::path> nights;
  for (const auto& e : fs::directory_iterator(src)) nights.push_back(e.path());
  std::sort(nights.begin(), nights.end());
  fs::remove_all(exp);
  fs::create_directories(exp);
  for (int i = 0; i < n; ++i) {
    // 2024-01-01 + i days, as a UTC start time name; the exact date does not matter.
    std::string name = fmt::format("{:04d}{:02d}{:02d}T020000Z", 2024 + i / 336, 1 + (i / 28) % 12,
                                   1 + i % 28);
    fs::copy(nights[i % nights.size()], exp / name, fs::copy_options::recursive);
  }
}

/// Reads and parses every JSON file history reads; returns how many.
int read_bare(const fs::path& exp) {
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(exp)) {
    if (e.path().extension() != ".json") continue;
    auto text = testbed::util::read_file(e.path());
    if (!text) continue;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    files += !j.is_discarded();
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path workdir = "history-bench-data";
  std::string testbed;
  int nights = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--workdir") workdir = argv[i + 1];
    else if (a == "--nights") nights = std::stoi(argv[i + 1]);
    else if (a == "--testbed") testbed = argv[i + 1];
  }
  fs::path exp = workdir / "unit";
  make_nights(exp, nights);

  // Best of three for each, after one warm-up read (the page cache holds the files).
  read_bare(exp);
  double base = 1e9, inproc = 1e9, cli = 1e9;
  int files = 0;
  size_t html_bytes = 0;
  for (int round = 0; round < 3; ++round) {
    double t0 = now();
    files = read_bare(exp);
    base = std::min(base, now() - t0);
    t0 = now();
    auto h = load_history(exp);
    if (!h) {
      std::fprintf(stderr, "history: %s\n", h.error().message.c_str());
      return 1;
    }
    std::string html = history_html(*h);
    inproc = std::min(inproc, now() - t0);
    html_bytes = html.size();
    if (!testbed.empty()) {
      t0 = now();
      auto r = testbed::util::run_process(
          {testbed, "history", exp.string(), "-o", (workdir / "history.html").string()});
      if (!r || r->exit_code != 0) {
        std::fprintf(stderr, "testbed history failed\n");
        return 1;
      }
      cli = std::min(cli, now() - t0);
    }
  }
  std::printf("history_nights: %d\n", nights);
  std::printf("history_json_files: %d\n", files);
  std::printf("baseline_read_parse_s: %.3f\n", base);
  std::printf("history_load_and_html_s: %.3f\n", inproc);
  std::printf("history_vs_baseline_ratio: %.2f\n", inproc / base);
  if (!testbed.empty()) {
    std::printf("testbed_history_command_s: %.3f\n", cli);
    std::printf("testbed_history_command_vs_baseline_ratio: %.2f\n", cli / base);
  }
  std::printf("history_html_bytes: %zu\n", html_bytes);
  std::printf("history_under_2s: %s\n", (testbed.empty() ? inproc : cli) < 2.0 ? "yes" : "no");
  return 0;
}

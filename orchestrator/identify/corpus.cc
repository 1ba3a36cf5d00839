#include "orchestrator/identify/corpus.h"

#include <optional>
#include <set>

#include "orchestrator/results/results_dir.h"
#include "orchestrator/scanners/registry.h"

namespace testbed::identify {

util::Result<Corpus> load_corpus(const std::vector<std::filesystem::path>& dirs) {
  Corpus c;
  std::set<std::string> revisions;
  for (auto& dir : dirs) {
    auto rd = results::load_results(dir);
    if (!rd) return rd.error();
    c.provenance.results_dirs.push_back(dir.lexically_normal().string());
    for (auto& run : rd->runs) {
      if (!run.complete()) {
        c.skipped.push_back(run.dir.string() + ": " + run.status);
        continue;
      }
      auto kind = run.kind();
      if (!kind) return kind.error();
      // The lab's scanner address when the manifest has it (auto-detection otherwise).
      std::optional<analysis::IpAddr> scanner;
      auto addr = analysis::IpAddr::parse(run.manifest.lab.scanner_address);
      if (!addr.empty()) scanner = addr;
      auto traits = extract_traits(run.run_dir().capture(), scanner);
      if (!traits) return traits.error();
      c.runs.push_back({std::string((*kind)->program), run.version, run.name(), dir.string(), std::move(*traits)});
      c.provenance.runs.push_back(dir.filename().string() + "/" + run.name());
      if (!run.manifest.testbed.git_revision.empty()) revisions.insert(run.manifest.testbed.git_revision);
    }
  }
  if (c.runs.empty()) return util::fail("no complete run in {} results director{}", dirs.size(), dirs.size() == 1 ? "y" : "ies");
  c.provenance.runs_revisions.assign(revisions.begin(), revisions.end());
  return c;
}

}  // namespace testbed::identify

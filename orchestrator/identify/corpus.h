#pragma once
// The labelled runs `testbed fingerprint` learns from: every complete run of one or more
// results directories, labelled with its scanner kind (the manifest's) and its plan label
// (the version); the runs of one label over several directories are merged.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/identify/model.h"
#include "orchestrator/util/result.h"

namespace testbed::identify {

struct Corpus {
  std::vector<LabelledRun> runs;
  Provenance provenance;             ///< results_dirs, runs, runs_revisions (created is left empty)
  std::vector<std::string> skipped;  ///< runs not complete, with why
};

/// Reads every complete run's capture. Fails on a directory that is not a results
/// directory, a capture that cannot be read, and when no complete run is found at all.
util::Result<Corpus> load_corpus(const std::vector<std::filesystem::path>& dirs);

}  // namespace testbed::identify

#include "orchestrator/report/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_set>

#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/analysis/capture_writer.h"
#include "orchestrator/analysis/locate.h"
#include "orchestrator/analysis/phases.h"
#include "orchestrator/analysis/replies.h"
#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/report/results.h"

namespace testbed::report {
namespace fs = std::filesystem;

namespace {

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string n = config::nearest(word, known);
  return n.empty() ? "" : fmt::format("did you mean '{}'? ", n);
}

/// The phase names of one grouping, as the report's Table 2 rows.
std::vector<std::string> phase_names(bool fine) {
  std::vector<std::string> out;
  if (fine)
    for (analysis::Phase p : analysis::kAllPhases) out.push_back(analysis::phase_name(p));
  else
    for (int g = 0; g < analysis::kPhaseGroupCount; ++g)
      out.push_back(analysis::phase_group_name(analysis::PhaseGroup(g)));
  return out;
}

/// The request against the plan and the run records, before any capture is read.
util::Status check_request(const ResultsDir& r, const ExportOptions& o) {
  if (std::find(r.versions.begin(), r.versions.end(), o.version) == r.versions.end())
    return util::fail("{}: no scanner version '{}'; {}the versions are {}", r.dir.string(),
                      o.version, did_you_mean(o.version, r.versions), fmt::join(r.versions, ", "));
  if (!o.phase.empty()) {
    const auto names = phase_names(o.fine);
    if (std::find(names.begin(), names.end(), o.phase) == names.end()) {
      const auto other = phase_names(!o.fine);
      const bool there = std::find(other.begin(), other.end(), o.phase) != other.end();
      return util::fail("--phase '{}' is not a {} phase; {}the phases are {}{}", o.phase,
                        o.fine ? "fine" : "study (Table 2)",
                        there ? "" : did_you_mean(o.phase, names), fmt::join(names, ", "),
                        there ? fmt::format(" ('{}' is a{} phase: {})", o.phase,
                                            o.fine ? " study" : " fine",
                                            o.fine ? "leave out --fine" : "add --fine")
                              : "");
    }
  }
  if (o.repetition == 0) return {};
  std::vector<std::string> runs;
  for (const RunRecord& rec : r.runs) {
    if (rec.version != o.version) continue;
    if (rec.rep == o.repetition && rec.complete()) return {};
    if (rec.rep == o.repetition)
      return util::fail("run {} is {}{}: only a complete run has packets to export",
                        rec.name(), rec.status, rec.error.empty() ? "" : " (" + rec.error + ")");
    runs.push_back(fmt::format("{} ({})", rec.name(), rec.status));
  }
  return util::fail("{} has no repetition {}; its runs are {}", o.version, o.repetition,
                    runs.empty() ? std::string("none") : fmt::format("{}", fmt::join(runs, ", ")));
}

/// The study's columns with the asked version's run in its place; its index in `*col`.
util::Result<std::vector<const AnalysedRun*>> columns_for(const AnalysedResults& data,
                                                          const ExportOptions& o, size_t* col) {
  std::vector<const AnalysedRun*> cols = data.primary();
  const AnalysedRun* mine = nullptr;
  for (const AnalysedRun& a : data.runs) {
    const RunRecord& rec = data.results.runs[a.record];
    if (rec.version == o.version && (o.repetition == 0 || rec.rep == o.repetition)) {
      mine = &a;
      break;
    }
  }
  if (!mine) {
    std::vector<std::string> why;
    for (const RunRecord& rec : data.results.runs)
      if (rec.version == o.version && (o.repetition == 0 || rec.rep == o.repetition))
        why.push_back(fmt::format("{} {}{}", rec.name(), rec.status,
                                  rec.error.empty() ? "" : ": " + rec.error));
    return util::fail("{} has no complete, readable run to export ({})", o.version,
                      why.empty() ? std::string("no run") : fmt::format("{}", fmt::join(why, "; ")));
  }
  for (size_t i = 0; i < cols.size(); ++i)
    if (data.results.runs[cols[i]->record].version == o.version) {
      cols[i] = mine;
      *col = i;
      return cols;
    }
  return util::fail("{}: no column for {}", data.results.dir.string(), o.version);  // not reached
}

/// Copies frames `numbers` (ascending) of `pcap` into a new pcap of the same link type; with
/// `scanner`, also every frame that answers one of them (counted in `*replies`).
util::Result<analysis::PcapBuffer> copy_frames(const fs::path& pcap,
                                               const std::vector<uint64_t>& numbers,
                                               const analysis::IpAddr* scanner, size_t* replies) {
  auto file = analysis::CaptureFile::open(pcap);
  if (!file) return file.error();
  const int link = file->link_type();
  analysis::PcapBuffer out(link, file->snapshot_length());
  std::optional<analysis::ReplyMatcher> answers;
  if (scanner) answers.emplace(*scanner);
  analysis::Frame f;
  size_t next = 0;
  while ((next < numbers.size() || answers) && file->next(&f)) {
    const bool listed = next < numbers.size() && f.number == numbers[next];
    if (!listed && !answers) continue;
    analysis::PacketInfo p;
    if (answers) decode_frame(link, f.data, f.hdr.caplen, f.hdr.len, &p);
    if (listed) {
      out.add(f);
      ++next;
      if (answers) answers->add_probe(p);
    } else if (answers->answers(p)) {
      out.add(f);
      ++*replies;
    }
  }
  if (file->end() == analysis::CaptureFile::End::kError)
    return util::fail("capture {}: read error after {} packets: {}", pcap.string(),
                      file->records(), file->end_message());
  if (next < numbers.size())
    return util::fail("capture {} ends before frame {} (was it changed since the analysis?)",
                      pcap.string(), numbers[next]);
  return out;
}

}  // namespace

util::Result<ExportedPackets> export_unique(const fs::path& results_dir, const ExportOptions& o) {
  auto loaded = load_results(results_dir);
  if (!loaded) return loaded.error();
  if (auto st = check_request(*loaded, o); !st) return st.error();
  const analysis::AnalysisOptions aopts = loaded->options;
  auto store = std::make_shared<analysis::PayloadStore>(aopts.payload_max, aopts.payload_budget);
  AnalysedResults data = analyse_results(std::move(*loaded), aopts, store, o.cancel);
  if (o.cancel && o.cancel->load()) return util::fail("interrupted (nothing written)");

  size_t c = 0;
  auto cols = columns_for(data, o, &c);
  if (!cols) return cols.error();
  ExportedPackets out;
  std::vector<std::string> runs;
  const analysis::AnalysisResult study = data.study(*cols, &runs);
  out.run = runs[c];
  for (size_t i = 0; i < runs.size(); ++i)
    if (i != c) out.others.push_back(runs[i]);
  const analysis::CaptureAnalysis& cap = study.captures[c];
  out.capture = cap.input.pcap;

  const analysis::UniqueTable& table = o.fine ? study.fine : study.three_phase;
  out.grouping = table.grouping;
  // A key unique in two phases is one packet.
  std::unordered_set<analysis::PacketKey, analysis::PacketKeyHash> keys;
  for (size_t i = 0; i < table.rows.size(); ++i)
    if (o.phase.empty() || table.rows[i] == o.phase)
      keys.insert(table.cells[i][c].unique.begin(), table.cells[i][c].unique.end());
  out.unique = keys.size();

  // Each unique packet's frame as the report finds it (its first frame with that key).
  const std::vector<analysis::PacketKey> wanted(keys.begin(), keys.end());
  auto located = analysis::locate_packets(out.capture, cap.scanner, aopts.key_fields, wanted);
  if (!located) return located.error();
  if (located->size() != wanted.size())
    return util::fail("{} of the {} unique packets of {} are not in {} any more (was it changed "
                      "since the analysis?)",
                      wanted.size() - located->size(), wanted.size(), out.run, out.capture.string());
  for (const auto& [k, at] : *located) out.frames.push_back(at.frame);
  std::sort(out.frames.begin(), out.frames.end());

  auto pcap = copy_frames(out.capture, out.frames, o.replies ? &cap.scanner : nullptr, &out.replies);
  if (!pcap) return pcap.error();
  out.link_type = pcap->link_type();
  out.pcap = pcap->bytes();
  return out;
}

}  // namespace testbed::report

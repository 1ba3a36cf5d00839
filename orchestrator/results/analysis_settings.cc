#include "orchestrator/results/analysis_settings.h"

namespace testbed::results {
using util::fail;

util::Result<analysis::AnalysisOptions> analysis_options(const config::AnalysisSettings& s) {
  analysis::AnalysisOptions o;
  std::string csv;
  for (const std::string& f : s.key_fields) csv += (csv.empty() ? "" : ",") + f;
  auto bits = analysis::parse_key_fields(csv);
  if (!bits) return fail("analysis.key_fields: {}", bits.error().message);
  o.key_fields = *bits;
  if (s.scanner_ip) {
    auto addr = analysis::IpAddr::parse(*s.scanner_ip);
    if (addr.empty()) return fail("analysis.scanner_ip '{}' is not an IP address", *s.scanner_ip);
    o.scanner = addr;
  }
  for (const auto& [proto, ov] : s.similarity) {
    analysis::SimilarityRule* r = proto == "tcp"                        ? &o.similarity.tcp
                                  : proto == "udp"                      ? &o.similarity.udp
                                  : proto == "icmp" || proto == "icmpv6" ? &o.similarity.icmp
                                  : proto == "other"                    ? &o.similarity.other
                                                                        : nullptr;
    if (!r) return fail("analysis.similarity: unknown protocol '{}'", proto);
    if (ov.max_length_diff) r->max_length_diff = static_cast<uint32_t>(*ov.max_length_diff);
    if (ov.min_common_block) r->min_common_block = static_cast<uint32_t>(*ov.min_common_block);
  }
  return o;
}

}  // namespace testbed::results

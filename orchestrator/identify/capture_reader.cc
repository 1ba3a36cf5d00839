#include "orchestrator/identify/capture_reader.h"

#include "orchestrator/analysis/capture_file.h"

namespace testbed::identify {

util::Status for_each_frame(const std::filesystem::path& pcap, const FrameFn& fn) {
  // Through the analysis module's one capture-file reader (pcap/pcapng, link types, a file
  // cut short read up to the cut).
  auto file = analysis::CaptureFile::open(pcap);
  if (!file) return file.error();
  const int lt = file->link_type();
  analysis::Frame fr;
  analysis::PacketInfo p;
  while (file->next(&fr)) {
    p = analysis::PacketInfo{};
    analysis::decode_frame(lt, fr.data, fr.hdr.caplen, fr.hdr.len, &p);
    fn(fr.number, p);
  }
  if (file->end() == analysis::CaptureFile::End::kError)
    return util::fail("{}: unreadable after frame {}: {}", pcap.string(), file->records(),
                      file->end_message());
  return {};
}

}  // namespace testbed::identify

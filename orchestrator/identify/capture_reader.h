#pragma once
// The one place identify reads a capture file: every frame, read by the analysis module's
// capture-file reader (analysis/capture_file.h) and decoded by its decoder, with its
// 1-based frame number (Wireshark's).
#include <cstdint>
#include <filesystem>
#include <functional>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/util/result.h"

namespace testbed::identify {

using FrameFn = std::function<void(uint64_t frame, const analysis::PacketInfo& p)>;

/// Calls `fn` for every frame of a pcap or pcapng file. Fails with the file name and
/// libpcap's message on a file that is not a capture, and on an unsupported link type.
util::Status for_each_frame(const std::filesystem::path& pcap, const FrameFn& fn);

}  // namespace testbed::identify

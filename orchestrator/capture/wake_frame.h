#pragma once
// One Ethernet frame handed to a lab node's interface from its host-side device (the veth
// or tap that libvirt made for it), so that it reaches that node only: transmitted on the
// host side, it arrives at the node without passing the lab bridge, so no other node, the
// router's capture point and the IDS sensor never see it. No address is used or needed.
//
// Its job: wake a scanner that waits for any packet before it exits (masscan 1.3.2 blocks
// in libpcap's read until a frame arrives; scanners/masscan/kind.cc). The frame's EtherType
// is 0x88B5, IEEE 802's "local experimental" type, which a node's kernel drops unread.
#include <array>
#include <cstdint>
#include <string>

#include "orchestrator/util/result.h"

namespace testbed::capture {

/// EtherType of the wake frame: IEEE Std 802 "Local Experimental Ethertype 1".
inline constexpr uint16_t kWakeEtherType = 0x88B5;

/// The frame: destination and source `mac` ("02:7b:…"), EtherType 0x88B5, a payload that
/// names testbed, padded to Ethernet's 60-byte minimum. Error on a malformed MAC.
util::Result<std::string> wake_frame(const std::string& mac);

/// Sends wake_frame(mac) out of host `device` (AF_PACKET; needs CAP_NET_RAW). The error
/// names the device.
util::Status send_wake_frame(const std::string& device, const std::string& mac);

}  // namespace testbed::capture

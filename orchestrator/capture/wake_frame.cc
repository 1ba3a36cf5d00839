#include "orchestrator/capture/wake_frame.h"

#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace testbed::capture {

util::Result<std::string> wake_frame(const std::string& mac) {
  std::array<unsigned, 6> b{};
  char tail = 0;
  if (std::sscanf(mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &tail) != 6 || mac.size() != 17)
    return util::fail("'{}' is not a MAC address (expected six hex pairs, e.g. 02:7b:00:00:00:01)",
                      mac);
  std::string f;
  for (int twice = 0; twice < 2; ++twice)
    for (unsigned v : b) f += static_cast<char>(v);
  f += static_cast<char>(kWakeEtherType >> 8);
  f += static_cast<char>(kWakeEtherType & 0xff);
  f += "testbed: wake the scanner";
  f.resize(60, '\0');
  return f;
}

util::Status send_wake_frame(const std::string& device, const std::string& mac) {
  auto frame = wake_frame(mac);
  if (!frame) return frame.error();
  unsigned index = if_nametoindex(device.c_str());
  if (index == 0)
    return util::fail("wake frame: no device '{}' on this host: {}", device, std::strerror(errno));
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, receive nothing
  if (fd < 0) return util::fail("wake frame: AF_PACKET socket: {}", std::strerror(errno));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(index);
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, frame->data(), 6);
  ssize_t n = sendto(fd, frame->data(), frame->size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof to);
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(frame->size()))
    return util::fail("wake frame: sending on '{}' failed: {}", device,
                      n < 0 ? std::strerror(err) : "short write");
  return {};
}

}  // namespace testbed::capture

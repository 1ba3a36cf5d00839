#pragma once
// The test traffic of the capture tests: n UDP datagrams to port 9999, sent from inside
// a network namespace the test created (python3, so no raw-socket code here).
#include <string>
#include <vector>

namespace testbed::capture::testing {

/// argv that sends `n` datagrams of `size` payload bytes (a 4-byte counter repeated)
/// from namespace `ns` to `dst`:9999.
inline std::vector<std::string> send_udp_argv(const std::string& ns, int n, int size,
                                              const std::string& dst) {
  return {"ip",
          "netns",
          "exec",
          ns,
          "python3",
          "-c",
          "import socket,sys\n"
          "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
          "n,size,dst=int(sys.argv[1]),int(sys.argv[2]),sys.argv[3]\n"
          "for i in range(n): s.sendto(i.to_bytes(4,'big')*(size//4), (dst, 9999))\n",
          std::to_string(n),
          std::to_string(size),
          dst};
}

}  // namespace testbed::capture::testing

#pragma once
// After a snapshot restore the guest is the one that was saved: its kernel RNG, its clock
// and its network state as they were at capture, identical on every restore. This makes
// it a fresh guest again, over one SSH exec of a Perl script (perl-base is Essential in
// Debian; the images are Debian):
//   - clock: offset measured against this host (the midpoint of a probe's round trip),
//     the guest clock moved by it (clock_settime), and measured again;
//   - randomness: 64 bytes of this host's randomness credited to the guest's input pool
//     (RNDADDENTROPY) and the CRNG forced to reseed from it (RNDRESEEDCRNG): bullseye's
//     5.10 kernel predates the VM generation ID reseed (5.18);
//   - network: the neighbour tables flushed (`ip neigh flush all`), and the TCP
//     connections other than this session's counted (there should be none).
// User-space RNG state in the guest's running services is not touched (documented in
// docs/backends.md: what restoring keeps identical run to run).
#include <string>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"

namespace testbed::lab {

struct FreshGuest {
  double clock_offset_before_ms = 0;  ///< guest minus host, as restored
  double clock_offset_after_ms = 0;   ///< guest minus host, after the correction
  double clock_rtt_ms = 0;            ///< round trip of the last probe (the bound)
  bool reseeded = false;
  int other_tcp_connections = 0;      ///< established TCP connections besides ours
  double seconds = 0;                 ///< how long the whole refresh took
};

/// Runs the refresh over `session` (root on the guest). `reseed` false leaves the RNG as
/// restored (tests show the replay that way).
util::Result<FreshGuest> refresh_guest(remote::SshSession& session, bool reseed = true);

/// The Perl program refresh_guest runs (for the tests' own protocol checks).
const std::string& fresh_guest_script();

}  // namespace testbed::lab

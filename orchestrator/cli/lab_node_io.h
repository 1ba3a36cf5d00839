#pragma once
// `testbed lab exec` and `lab cp` on an open lab: a remote command as faithful as `ssh`
// (standard input streamed, output byte-exact, optional PTY, signals end the remote
// command), and SFTP copies to and from a node.
#include <string>
#include <vector>

#include "orchestrator/lab/lab.h"

namespace testbed::cli {

/// `lab exec`'s own failures (bad command line, unknown lab or node, SSH failed): 255, as
/// `ssh` uses, so that every other status is the remote command's.
inline constexpr int kExitExecFailed = 255;

struct ExecFlags {
  bool tty = false;       ///< -t: run on a PTY (local terminal in raw mode when it is one)
  bool no_stdin = false;  ///< -n: the command's standard input is empty (EOF at once)
};

/// Runs `command` on `node` of `lab`; returns the command's exit status, 128+N when it
/// died of signal N, 128+N when testbed got signal N (SIGINT, SIGTERM, SIGHUP: the remote
/// command is ended first), or kExitExecFailed.
int exec_on_node(const lab::Lab& lab, const std::string& node,
                 const std::vector<std::string>& command, const ExecFlags& flags);

/// A `lab cp` operand: `NODE:PATH` (remote) or a local path.
struct CopyEnd {
  std::string node;  ///< empty: local
  std::string path;
};

/// Splits "NODE:PATH" when the part before the first ':' is one of `nodes`, else local.
CopyEnd parse_copy_end(const std::string& arg, const std::vector<std::string>& nodes);

/// Copies one regular file between the local machine and a node (exactly one of src and
/// dst is remote); a destination that is a directory (or ends in '/') receives the file
/// under its source name. Returns 0, 2 (missing source, both/neither remote), 1, or 130
/// when SIGINT/SIGTERM/SIGHUP stopped it (nothing half-written is left).
int copy_with_node(const lab::Lab& lab, const CopyEnd& src, const CopyEnd& dst);

}  // namespace testbed::cli

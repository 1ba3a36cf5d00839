#pragma once
// Move-only owners of libssh's C handles. Each deleter is noexcept and frees exactly
// what libssh allocated; destruction order matters (a channel or SFTP session must die
// before the ssh_session it belongs to), which the owners of these handles respect by
// declaring them after the session.
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <memory>

namespace testbed::remote {

struct SshSessionDeleter {
  void operator()(ssh_session s) const noexcept {
    if (ssh_is_connected(s)) ssh_disconnect(s);
    ssh_free(s);
  }
};
struct SshChannelDeleter {
  void operator()(ssh_channel c) const noexcept {
    if (ssh_channel_is_open(c)) ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
struct SftpSessionDeleter {
  void operator()(sftp_session s) const noexcept { sftp_free(s); }
};
struct SftpFileDeleter {
  void operator()(sftp_file f) const noexcept { sftp_close(f); }
};
struct SshKeyDeleter {
  void operator()(ssh_key k) const noexcept { ssh_key_free(k); }
};

/// Owns an ssh_session (ssh_new); disconnects and frees it.
using SessionHandle = std::unique_ptr<ssh_session_struct, SshSessionDeleter>;
/// Owns an ssh_channel (ssh_channel_new); closes and frees it.
using ChannelHandle = std::unique_ptr<ssh_channel_struct, SshChannelDeleter>;
/// Owns an sftp_session (sftp_new); frees it (its channel with it).
using SftpHandle = std::unique_ptr<sftp_session_struct, SftpSessionDeleter>;
/// Owns an sftp_file (sftp_open); closes it on the server.
using SftpFileHandle = std::unique_ptr<sftp_file_struct, SftpFileDeleter>;
/// Owns an ssh_key (ssh_pki_*).
using KeyHandle = std::unique_ptr<ssh_key_struct, SshKeyDeleter>;

}  // namespace testbed::remote

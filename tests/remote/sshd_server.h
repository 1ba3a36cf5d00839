#pragma once
// A private OpenSSH server for tests, started on 127.0.0.1 at a free port with its own
// config, host key and authorized_keys in a temp dir, and killed by PID at the end (needs
// root: sshd with privilege separation and root login). Used by the SSH tests and the
// remote capture tests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"

namespace testbed::remote::test_sshd {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

inline void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

inline std::string me() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : "root";
}

/// A private sshd for one test suite: started once, killed by PID at the end.
class SshServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto d = util::TempDir::create("remote-sshd");
    ASSERT_TRUE(d.ok()) << d.error().message;
    dir_ = new util::TempDir(std::move(*d));
    const fs::path dir = dir_->path();
    ::chmod(dir.c_str(), 0755);
    ASSERT_TRUE(generate_ed25519_keypair(dir / "host_key", "host").ok());
    ASSERT_TRUE(generate_ed25519_keypair(dir / "client_key", "client").ok());
    ASSERT_TRUE(generate_ed25519_keypair(dir / "other_key", "other").ok());
    fs::copy_file(dir / "client_key.pub", dir / "authorized_keys");
    port_ = free_port();
    auto line = known_hosts_line("127.0.0.1", port_, dir / "host_key.pub");
    ASSERT_TRUE(line.ok()) << line.error().message;
    write_text(dir / "known_hosts", *line + "\n");
    write_text(dir / "sshd_config", "Port " + std::to_string(port_) + "\n" +
                                        "ListenAddress 127.0.0.1\n"
                                        "HostKey " +
                                        (dir / "host_key").string() + "\n" + "AuthorizedKeysFile " +
                                        (dir / "authorized_keys").string() + "\n" + "PidFile " +
                                        (dir / "sshd.pid").string() + "\n" +
                                        "PermitRootLogin prohibit-password\n"
                                        "PasswordAuthentication no\n"
                                        "KbdInteractiveAuthentication no\n"
                                        "UsePAM no\n"
                                        "StrictModes no\n"
                                        "Subsystem sftp internal-sftp\n"
                                        "LogLevel ERROR\n");
    std::error_code ec;
    fs::create_directories("/run/sshd", ec);  // sshd's privilege-separation directory
    const std::string cfg = (dir / "sshd_config").string();
    const std::string log = (dir / "sshd.log").string();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // Dies with the test even if the test crashes before TearDownTestSuite.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      FILE* o = std::freopen("/dev/null", "w", stdout);
      (void)f;
      (void)o;
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port_); ++i) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(port_open(port_)) << "sshd did not start; its log: "
                                  << util::read_file(log).value();
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    delete dir_;
    dir_ = nullptr;
  }

  static SshTarget target() {
    SshTarget t;
    t.host = "127.0.0.1";
    t.port = port_;
    t.user = me();
    t.identity_file = dir_->path() / "client_key";
    t.known_hosts_file = dir_->path() / "known_hosts";
    t.connect_timeout = 5000ms;
    return t;
  }
  static fs::path dir() { return dir_->path(); }
  static int port() { return port_; }
  SshSession session() {
    auto s = SshSession::connect(target());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(s).value();
  }

  static inline util::TempDir* dir_ = nullptr;
  static inline int port_ = 0;
  static inline pid_t pid_ = -1;
};

}  // namespace testbed::remote::test_sshd

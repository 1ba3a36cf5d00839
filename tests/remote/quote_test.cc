#include "orchestrator/remote/quote.h"

#include <gtest/gtest.h>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::remote {
namespace {

// Strings a hostile or careless config file could hold.
const std::vector<std::string> kHostile = {"plain",
                                           "a b",
                                           "",
                                           " ",
                                           "$(touch /tmp/testbed-pwned)",
                                           "`touch /tmp/testbed-pwned`",
                                           "'; touch /tmp/testbed-pwned; '",
                                           "\"double\"",
                                           "back\\slash\\",
                                           "new\nline",
                                           "tab\there",
                                           "*",
                                           "~",
                                           "$HOME",
                                           "${IFS}",
                                           "a'b'c",
                                           "'",
                                           "''",
                                           "-n",
                                           ";|&<>(){}",
                                           "!!",
                                           "#comment",
                                           "\x01\x7f\xff",
                                           "ünïcödé"};

TEST(ShellQuote, SingleQuotesEverything) {
  EXPECT_EQ(shell_quote("abc"), "'abc'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("a'b"), "'a'\\''b'");
  EXPECT_EQ(shell_quote("$(x)"), "'$(x)'");
  EXPECT_EQ(shell_join({"echo", "a b"}), "'echo' 'a b'");
}

// The contract: a POSIX shell parsing shell_join(argv) runs argv exactly. Checked with
// the real /bin/sh (dash here) and bash, printing each argument NUL-terminated.
TEST(ShellQuote, RealShellsRecoverTheArgumentVector) {
  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), kHostile.begin(), kHostile.end());
  const std::string line = shell_join(argv);
  for (const char* sh : {"sh", "bash"}) {
    if (!util::have_program(sh)) continue;
    auto r = util::run_checked({sh, "-c", line});
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::vector<std::string> got;
    std::string cur;
    for (char c : r->out) {
      if (c == '\0') {
        got.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    EXPECT_EQ(got, kHostile) << sh;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/testbed-pwned"));
}

TEST(KnownHosts, LineFormat) {
  auto l22 = known_hosts_line_from_text("10.0.0.1", 22, "ssh-ed25519 AAAAC3Nz root@x\n");
  ASSERT_TRUE(l22.ok());
  EXPECT_EQ(*l22, "10.0.0.1 ssh-ed25519 AAAAC3Nz");
  auto l2222 = known_hosts_line_from_text("127.0.0.1", 2222, "ssh-ed25519 AAAAC3Nz");
  ASSERT_TRUE(l2222.ok());
  EXPECT_EQ(*l2222, "[127.0.0.1]:2222 ssh-ed25519 AAAAC3Nz");
  EXPECT_FALSE(known_hosts_line_from_text("h", 22, "garbage").ok());
  EXPECT_FALSE(known_hosts_line_from_text("h", 22, "ssh-ed25519").ok());
  EXPECT_FALSE(known_hosts_line_from_text("a b", 22, "ssh-ed25519 AAAA").ok());
}

TEST(Keygen, WritesPrivateKey0600AndPublicKey) {
  auto dir = util::TempDir::create("remote-keygen");
  ASSERT_TRUE(dir.ok());
  auto key = dir->path() / "id_ed25519";
  auto st = generate_ed25519_keypair(key, "lab-x");
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto perms = std::filesystem::status(key).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto pub = util::read_file(key.string() + ".pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->rfind("ssh-ed25519 AAAA", 0), 0u) << *pub;
  EXPECT_NE(pub->find(" lab-x\n"), std::string::npos);
  auto priv = util::read_file(key);
  ASSERT_TRUE(priv.ok());
  EXPECT_NE(priv->find("BEGIN OPENSSH PRIVATE KEY"), std::string::npos);
  // ssh-keygen agrees the private key is valid and derives the same public key.
  if (util::have_program("ssh-keygen")) {
    auto derived = util::run_checked({std::string("ssh-keygen"), "-y", "-f", key.string()});
    ASSERT_TRUE(derived.ok()) << derived.error().message;
    EXPECT_EQ(derived->out.substr(0, 80), pub->substr(0, 80));
  }
}

}  // namespace
}  // namespace testbed::remote

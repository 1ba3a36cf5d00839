#include "orchestrator/util/hash.h"

#include <gtest/gtest.h>

#include "orchestrator/util/files.h"

namespace testbed::util {
namespace {

TEST(Hash, Sha256KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, FileMatchesString) {
  auto d = TempDir::create("testbed-hash");
  ASSERT_TRUE(d.ok());
  std::string big(200000, 'x');
  ASSERT_TRUE(write_file_atomic(d->path() / "f", big).ok());
  EXPECT_EQ(*sha256_file(d->path() / "f"), sha256_hex(big));
  EXPECT_FALSE(sha256_file(d->path() / "missing").ok());
}

}  // namespace
}  // namespace testbed::util

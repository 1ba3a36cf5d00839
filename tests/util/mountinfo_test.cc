// The one /proc/self/mountinfo reader: escapes undone, super options kept, short lines
// skipped; and the live file parses to at least the root mount.
#include "orchestrator/util/mountinfo.h"

#include <gtest/gtest.h>

namespace testbed::util {
namespace {

TEST(Mountinfo, UnescapesMountPointsAndKeepsSuperOptions) {
  const std::string text =
      "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "98 22 0:50 / /var/lib/testbed/labs/x/nodes/a\\040b/root rw,relatime shared:60 - overlay "
      "overlay rw,lowerdir=/var/lib/testbed/images/router/k/rootfs,upperdir=/u,workdir=/w\n"
      "short line\n";
  auto m = parse_mountinfo(text);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].mount_point, "/");
  EXPECT_EQ(m[0].super_options, "ext4 /dev/vda rw");
  EXPECT_EQ(m[1].mount_point, "/var/lib/testbed/labs/x/nodes/a b/root");
  EXPECT_NE(m[1].super_options.find("lowerdir=/var/lib/testbed/images/router/k/rootfs"),
            std::string::npos);
}

TEST(Mountinfo, ThisProcessHasARootMount) {
  bool root = false;
  for (const auto& e : read_mountinfo()) root = root || e.mount_point == "/";
  EXPECT_TRUE(root);
}

}  // namespace
}  // namespace testbed::util

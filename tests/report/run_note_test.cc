// The runs tables' note: which lab host ran a run when the runs were spread over several
// (`hosts:`), its URI without the login options; nothing for a run on one host.
#include <gtest/gtest.h>

#include "orchestrator/report/render_common.h"

namespace testbed::report {
namespace {

TEST(RunNote, NamesTheLabHostWithoutItsLoginOptions) {
  RunRecord r;
  r.version = "7.80";
  r.status = "complete";
  EXPECT_EQ(run_note(r), "");
  r.manifest.lab.host = "qemu+ssh://root@198.18.0.12/system?keyfile=/k&known_hosts=/kh";
  EXPECT_EQ(run_note(r), "ran on qemu+ssh://root@198.18.0.12/system");
  r.manifest.retries.push_back({1, "scan", "scanner killed by signal 6"});
  EXPECT_EQ(run_note(r),
            "retried after attempt 1 (scanner killed by signal 6 at scan); ran on "
            "qemu+ssh://root@198.18.0.12/system");
}

}  // namespace
}  // namespace testbed::report

#pragma once
// The current time as UTC text, for manifests, log lines, file names and reports.
#include <cstdint>
#include <string>

namespace testbed::util {

/// Now, in UTC, formatted by strftime(3) `format` (e.g. "%Y-%m-%dT%H:%M:%SZ").
std::string utc_now(const char* format);
/// UNIX time `t`, in UTC, formatted likewise.
std::string utc_time(int64_t t, const char* format);

}  // namespace testbed::util

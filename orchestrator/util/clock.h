#pragma once
// The current time as UTC text, for manifests, log lines, file names and reports.
#include <string>

namespace testbed::util {

/// Now, in UTC, formatted by strftime(3) `format` (e.g. "%Y-%m-%dT%H:%M:%SZ").
std::string utc_now(const char* format);

}  // namespace testbed::util

#include "orchestrator/util/clock.h"

#include <ctime>

namespace testbed::util {

std::string utc_time(int64_t t, const char* format) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char b[64];
  size_t n = std::strftime(b, sizeof b, format, &tm);
  return std::string(b, n);
}

std::string utc_now(const char* format) { return utc_time(std::time(nullptr), format); }

}  // namespace testbed::util

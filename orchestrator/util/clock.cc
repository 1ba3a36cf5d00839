#include "orchestrator/util/clock.h"

#include <ctime>

namespace testbed::util {

std::string utc_now(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  size_t n = std::strftime(b, sizeof b, format, &tm);
  return std::string(b, n);
}

}  // namespace testbed::util

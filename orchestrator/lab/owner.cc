#include "orchestrator/lab/owner.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <string>

#include "orchestrator/util/files.h"

namespace testbed::lab {

int64_t process_start_ticks(int64_t pid) {
  auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  auto p = stat->rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream in(stat->substr(p + 2));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i)
    if (i == 22) return std::atoll(field.c_str());
  return 0;
}

bool process_alive(int64_t pid, int64_t start_ticks) {
  if (pid <= 0) return false;
  if (!(::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) return false;
  // A killed owner whose parent has not reaped it yet is a zombie: gone all the same.
  auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat) {
    auto p = stat->rfind(')');
    if (p != std::string::npos && p + 2 < stat->size() && (*stat)[p + 2] == 'Z') return false;
  }
  if (start_ticks > 0 && process_start_ticks(pid) != start_ticks) return false;  // PID reused
  return true;
}

}  // namespace testbed::lab

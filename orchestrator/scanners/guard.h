#pragma once
// What every scanner kind's guard returns: each argument it refuses, and why.
#include <string>
#include <vector>

namespace testbed::scanners {

struct Refusal {
  size_t index = 0;     ///< the refused argument's position in the command (0 = program)
  std::string reason;   ///< why, naming the option as the scanner reads it
};

}  // namespace testbed::scanners

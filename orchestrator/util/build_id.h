#pragma once
// Which build of this program is running: the GNU build ID the linker wrote into the
// executable (a hash of its contents), as hex. Saved VM states that outlive their lab are
// used again only by the same build (lab/kept_states.h): the guests were made by its code.
#include <string>

namespace testbed::util {

/// The running executable's GNU build ID in hex; when it has none, the SHA-256 of
/// /proc/self/exe (slower: the whole file is read); "" when neither can be read.
const std::string& build_id();

}  // namespace testbed::util

# Writes OUT, a C++ file defining testbed::identify::kDefaultModelJson from the JSON file IN
# (as hex bytes: no raw-string length or delimiter limits).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from ${IN} by embed_model.cmake; do not edit.\n#include <cstddef>\nnamespace testbed::identify {\nextern const unsigned char kDefaultModelJson[];\nextern const std::size_t kDefaultModelJsonSize;\nconst unsigned char kDefaultModelJson[] = {${bytes}0x00};\nconst std::size_t kDefaultModelJsonSize = sizeof(kDefaultModelJson) - 1;\n}  // namespace testbed::identify\n")

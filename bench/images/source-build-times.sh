#!/usr/bin/env bash
# Source-built scanner images (images/scanner-nmap-src-*.yaml): cold build time of each
# into an empty temporary cache (tarball check, buildd root, compile, runtime image), one
# at a time, then the warm time of `image build` of all of them once cached (nothing
# rebuilt). Timed by farm-bench (cold: one run each; warm: median of 5).
# Needs root, the Debian mirror and the tarballs: TESTBED_SOURCES must name the directory
# holding them (images/README.md, "Source builds"). Leaves the real image cache alone.
# On the shared lab host run it under the lab lock, one image at a time if need be:
#   flock /tmp/testbed-lab.lock bench/images/source-build-times.sh [IMAGE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
testbed=${TESTBED:-$repo/build/testbed}
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(scanner-nmap-src-7.01 scanner-nmap-src-7.60 scanner-nmap-src-7.80)
: "${TESTBED_SOURCES:?set TESTBED_SOURCES to the directory holding the Nmap tarballs}"
export TESTBED_SOURCES
cache=$(mktemp -d /var/tmp/testbed-bench-src.XXXXXX)
trap 'rm -rf --one-file-system "$cache"' EXIT
export TESTBED_IMAGE_DIR=$cache

# One cold build per image (each is the first build of its name in the empty cache).
for img in "${images[@]}"; do
  echo "== cold: $img"
  farm-bench -n 1 --warmup 0 --timeout 3600 -- "$testbed" -q image build --recipes "$repo/images" "$img"
done
echo "== warm: image build ${images[*]} (all cached, nothing rebuilt)"
farm-bench -n 5 -- "$testbed" -q image build --recipes "$repo/images" "${images[@]}"
"$testbed" image list --json | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    print("image_size_mib[%s]: %.0f" % (i["name"], i["size_bytes"] / 2**20))'

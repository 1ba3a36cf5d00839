#!/usr/bin/env bash
# Image build figures: cold build of every LXC image (fresh cache, 2 in parallel),
# warm `image build --all` (nothing rebuilt), and image sizes.
# Needs root and the Debian mirror; leaves the real cache alone (uses a temp cache).
#   bench/images/build-times.sh [path/to/testbed]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
testbed=${1:-$repo/build/testbed}
cache=$(mktemp -d /var/tmp/testbed-bench-images.XXXXXX)
trap 'rm -rf --one-file-system "$cache"' EXIT
export TESTBED_IMAGE_DIR=$cache

t0=$(date +%s%N)
"$testbed" -q image build --all --recipes "$repo/images" >"$cache/.cold.txt"
t1=$(date +%s%N)
"$testbed" -q image build --all --recipes "$repo/images" >"$cache/.warm.txt"
t2=$(date +%s%N)

echo "per image (cold):"
sed 's/^/  /' "$cache/.cold.txt"
echo "images_cold_build_all_s: $(( (t1 - t0) / 1000000000 )).$(( (t1 - t0) / 100000000 % 10 ))"
echo "images_warm_build_all_ms: $(( (t2 - t1) / 1000000 ))"
if grep -q ' built ' "$cache/.warm.txt"; then echo "warm pass rebuilt something:"; cat "$cache/.warm.txt"; exit 1; fi
sizes=$(cat <<'PY'
import json, sys
imgs = json.load(sys.stdin)
for i in imgs:
    print("image_size_mib[%s]: %.0f" % (i["name"], i["size_bytes"] / 2**20))
print("images_total_mib: %.0f" % (sum(i["size_bytes"] for i in imgs) / 2**20))
PY
)
"$testbed" image list --json | python3 -c "$sizes"

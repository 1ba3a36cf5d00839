#!/bin/sh
# Capture under load on the real lab: experiments/capture-stress.yaml (SYN scan of all
# 65535 ports of one target at --min-rate 30000) with the capture buffer given as $1 MiB
# (default: the experiment's 64), then prints `name: value` lines:
#   packets, kernel_dropped, interface_dropped, scan_seconds, packets_per_second
# and, for comparison, the same figures of the -T4 -A runs if a results dir is given as $2.
# Usage (root): bench/capture/stress.sh [BUFFER_MIB] [NMAP7_RESULTS_DIR]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
tb=${TESTBED:-$here/build/testbed}
out=$(mktemp -d /var/tmp/testbed-stress.XXXXXX)
exp=$here/experiments/capture-stress.yaml
if [ -n "${1:-}" ]; then
  sed "s/buffer_mib: .*/buffer_mib: $1/; s#topology: \.\./#topology: $here/#" "$exp" > "$out/stress.yaml"
  exp=$out/stress.yaml
fi
"$tb" run "$exp" --output "$out" --lab-name tbstress >"$out/run.log" 2>&1 || { cat "$out/run.log"; exit 1; }
summarise() {  # manifest.json -> name: value lines with a prefix
  python3 - "$1" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); p = sys.argv[2]
c, s = m["capture"], m["scan"]
secs = s["finished"] - s["started"]
print(f"{p}buffer_mib: {c['buffer_bytes'] >> 20}")
print(f"{p}packets: {c['packets']}")
print(f"{p}kernel_dropped: {c['kernel_dropped']}")
print(f"{p}interface_dropped: {c['interface_dropped']}")
print(f"{p}scan_seconds: {secs:.1f}")
print(f"{p}packets_per_second: {c['packets'] / secs:.0f}")
PY
}
summarise "$(ls "$out"/capture-stress/*/7.95/1/manifest.json)" "stress_"
if [ -n "${2:-}" ]; then
  for m in "$2"/*/1/manifest.json; do
    v=$(basename "$(dirname "$(dirname "$m")")")
    summarise "$m" "t4_${v}_"
  done
fi
rm -rf "$out"

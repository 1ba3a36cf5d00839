#!/usr/bin/env bash
# How fast masscan and ZMap send in the lab and whether the capture keeps up: runs
# experiments/scanner-rates.yaml (each tool at a nominal 10k and 100k packets/s against
# one target) and prints, per run, the SYN probes the capture holds, the span from the
# first to the last, the achieved rate (probes - 1) / span, the nominal rate, and the
# capture's drops (kernel + interface, from the manifest). With RESULTS_DIR instead of
# running, it reads an existing results directory of that experiment.
# Usage (root; one lab at a time on a host):
#   bench/scanner-rates/rates.sh [TESTBED=build/testbed] [OUT=/var/tmp/testbed-rates] [REPEAT=3]
#   bench/scanner-rates/rates.sh --results RESULTS_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--results" ]; then
  dir=$(readlink -f "$2")
else
  bin=$(readlink -f "${1:-$here/build/testbed}")
  out=${2:-/var/tmp/testbed-rates}
  cd "$here"  # image recipes are found from here
  "$bin" run experiments/scanner-rates.yaml --repeat "${3:-3}" --output "$out" >&2
  dir=$(readlink -f "$out/scanner-rates/latest")
fi

echo "| run | nominal pps | SYN probes captured | span, s | achieved pps | capture drops |"
echo "|---|---:|---:|---:|---:|---:|"
for run in "$dir"/*/*/; do
  [ -f "$run/manifest.json" ] || continue
  label=$(basename "$(dirname "$run")")/$(basename "$run")
  read -r scanner nominal drops < <(python3 - "$run/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
argv = m["scanner_command"]
rate = next((argv[i + 1] for i, a in enumerate(argv) if a in ("--rate", "-r")), "?")
c = m.get("capture", {})
print(m["lab"]["scanner_address"], rate, c.get("kernel_dropped", 0) + c.get("interface_dropped", 0))
PY
)
  tshark -n -r "$run/capture.pcap" -T fields -e frame.time_epoch \
    -Y "ip.src == $scanner && tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null |
    awk -v l="$label" -v nom="$nominal" -v d="$drops" '
      NR == 1 { first = $1 } { last = $1; n++ }
      END { span = last - first; pps = span > 0 ? (n - 1) / span : 0
            printf "| %s | %d | %d | %.3f | %.0f | %d |\n", l, nom, n, span, pps, d }'
done

#!/bin/sh
# The nmap7 study (4 versions, 1 run each) on LXC and on VMs, back to back, each timed
# whole by farm-bench, and the overhead beyond Nmap's own elapsed time (wall minus the sum
# of the runs' scan times from their manifests). The VM experiment keeps its saved states
# (`keep_states: true`): a first VM run, not counted, boots every node and every scanner
# image once and keeps the states; the counted run restores them. Goals (issue 24, TCG,
# 2 cores): VM overhead <= 60 s for 4 runs, VM wall <= 1.5x LXC wall; LXC overhead <= 20 s.
# Usage: bench/lab/nmap7-backends.sh [TESTBED_BINARY] [OUT_DIR]   (root; images built)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/testbed}
out=${2:-/var/tmp/testbed-nmap7-backends}
mkdir -p "$out"
run() {  # experiment, label
  farm-bench -n 1 --warmup 0 --timeout 3000 -- \
    sh -c "exec $bin run $here/experiments/$1.yaml --output $out >>$out/$2.log 2>&1" |
    awk -v l="$2" '/wall s/ {print l "_wall_seconds: " $4}'
}
overhead() {  # experiment, wall
  python3 - "$out/$1/latest" "$2" <<'PY'
import glob, json, sys
d, wall = sys.argv[1], float(sys.argv[2])
scan = sum(json.load(open(m))["scan"]["finished"] - json.load(open(m))["scan"]["started"]
           for m in glob.glob(d + "/*/*/manifest.json"))
print(f"  nmap_elapsed_seconds: {scan:.1f}  overhead_seconds: {wall - scan:.1f}")
PY
}
echo "warm-up (not counted): $(run nmap7-vm vm-warmup)"
lxc=$(run nmap7 lxc | awk '{print $2}')
echo "lxc_wall_seconds: $lxc"; overhead nmap7 "$lxc"
vm=$(run nmap7-vm vm | awk '{print $2}')
echo "vm_wall_seconds: $vm"; overhead nmap7-vm "$vm"
echo "vm_over_lxc: $(echo "scale=2; $vm / $lxc" | bc)"

#!/bin/sh
# VM lab lifecycle figures beside the LXC lab's, measured in the same run (cached images):
#   lab_up_seconds      `testbed lab up topology/two-subnet.yaml` (router + scanner + 3 targets,
#                       until every node answers SSH, passes /testbed/health.sh and its
#                       image's expect facts)
#   node_reset_seconds  `testbed lab reset LAB target1` (fresh overlay, boot, SSH, health)
#   lab_down_seconds    `testbed lab down LAB`
# for LXC (the baseline) and for VMs under ACCEL (default tcg: QEMU's emulator), with the
# ratio VM / LXC of each median. Goals for TCG on a 2-core host: up <= 60 s, reset <= 20 s.
# Usage: bench/lab/vm-lab-times.sh [TESTBED_BINARY] [REPETITIONS] [ACCEL]   (root)
# Needs the VM images: testbed image build --backend vm router scanner-nmap-7.80 target-lamp-ftp
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/testbed}
reps=${2:-3}
accel=${3:-tcg}
topo=$here/topology/two-subnet.yaml
now() { date +%s.%N; }
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]}'; }
measure() {  # BACKEND LAB: sets up_m, reset_m, down_m
  "$bin" lab down "$2" >/dev/null 2>&1 || true
  up_all="" reset_all="" down_all=""
  i=0
  while [ "$i" -lt "$reps" ]; do
    t0=$(now); "$bin" --quiet lab up "$topo" --name "$2" --backend "$1" --accel "$accel" >/dev/null; t1=$(now)
    "$bin" --quiet lab reset "$2" target1 >/dev/null; t2=$(now)
    "$bin" --quiet lab down "$2" >/dev/null; t3=$(now)
    up_all="$up_all $(echo "$t1 - $t0" | bc)"
    reset_all="$reset_all $(echo "$t2 - $t1" | bc)"
    down_all="$down_all $(echo "$t3 - $t2" | bc)"
    i=$((i + 1))
  done
  up_m=$(median "$up_all") reset_m=$(median "$reset_all") down_m=$(median "$down_all")
}
measure lxc bench-lxc
lxc_up=$up_m lxc_reset=$reset_m lxc_down=$down_m
measure vm bench-vm
ratio() { echo "scale=1; $1 / $2" | bc; }
echo "lxc_lab_up_seconds: $lxc_up"
echo "lxc_node_reset_seconds: $lxc_reset"
echo "lxc_lab_down_seconds: $lxc_down"
echo "vm_${accel}_lab_up_seconds: $up_m (x$(ratio "$up_m" "$lxc_up") LXC)"
echo "vm_${accel}_node_reset_seconds: $reset_m (x$(ratio "$reset_m" "$lxc_reset") LXC)"
echo "vm_${accel}_lab_down_seconds: $down_m (x$(ratio "$down_m" "$lxc_down") LXC)"
echo "repetitions: $reps"
echo "nodes: 5"

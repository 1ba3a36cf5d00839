#!/bin/sh
# VM node resets, snapshot against boot, measured in the same run on one lab (cached
# images; two-subnet-small: router, scanner, target1):
#   vm_snapshot_reset_seconds  `testbed lab reset LAB target1`: remove the domain, a fresh
#                              qcow2 layer over the frozen disk, restore the saved running
#                              state, SSH, clock/RNG/neighbour refresh (lab/fresh_guest.h)
#   vm_boot_reset_seconds      `testbed lab reset LAB target1 --boot`: fresh overlay, boot,
#                              SSH, init, health.sh, expect (what every reset did before)
#   ratio                      boot / snapshot
#   vm_lab_up_seconds          `testbed lab up` including saving the scanner's and the
#                              target's states (once per lab)
# medians of REPS. Goal for TCG on a 2-core host (issue 24): snapshot reset <= 3 s.
# Usage: bench/lab/vm-reset-times.sh [TESTBED_BINARY] [REPS] [ACCEL]   (root)
# Needs the VM images: testbed image build --backend vm router scanner-nmap-7.80 target-lamp-ftp
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/testbed}
reps=${2:-5}
accel=${3:-tcg}
lab=bench-vmreset
now() { date +%s.%N; }
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]}'; }
"$bin" lab down "$lab" --ignore-missing >/dev/null 2>&1 || true
trap '"$bin" lab down "$lab" --ignore-missing >/dev/null 2>&1 || true' EXIT
t0=$(now)
"$bin" --quiet lab up "$here/topology/two-subnet-small.yaml" --name "$lab" --backend vm --accel "$accel" >/dev/null
up=$(echo "$(now) - $t0" | bc)
snap_all="" boot_all=""
i=0
while [ "$i" -lt "$reps" ]; do
  t0=$(now); "$bin" --quiet lab reset "$lab" target1 >/dev/null; t1=$(now)
  "$bin" --quiet lab reset "$lab" target1 --boot >/dev/null; t2=$(now)
  snap_all="$snap_all $(echo "$t1 - $t0" | bc)"
  boot_all="$boot_all $(echo "$t2 - $t1" | bc)"
  i=$((i + 1))
done
snap=$(median "$snap_all") boot=$(median "$boot_all")
echo "vm_${accel}_snapshot_reset_seconds: $snap (all:$snap_all)"
echo "vm_${accel}_boot_reset_seconds: $boot (all:$boot_all)"
echo "boot_over_snapshot: $(echo "scale=1; $boot / $snap" | bc)"
echo "vm_${accel}_lab_up_seconds: $up"
"$bin" lab status "$lab" | grep resets: || true
echo "repetitions: $reps"

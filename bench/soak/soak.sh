#!/usr/bin/env bash
# Endurance benchmark: a small LXC experiment (bench/soak/soak.yaml) run RUNS times back to
# back the way a nightly host runs it (--baseline latest-good --keep-results 3 --junit),
# sampling after each run what a leak would grow: host mounts, network interfaces, libvirt
# domains and networks, nftables tables, lab state directories, processes, open fds of
# libvirtd and (peak, sampled while it runs) of testbed, testbed's peak RSS, MemAvailable,
# image cache and results disk use. Prints each figure's first/last value and slope per run
# (least squares) and the spread of run durations; the samples go to OUT/soak.csv.
# Usage (root; one lab at a time on a host):
#   bench/soak/soak.sh [RUNS=25] [TESTBED=build/testbed] [OUT=/var/tmp/testbed-soak]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-25}
bin=$(readlink -f "${2:-$here/build/testbed}")
out=${3:-/var/tmp/testbed-soak}
exp=$here/bench/soak/soak.yaml
images=/var/lib/testbed/images
cd "$here"  # image recipes are found from here
mkdir -p "$out"
csv=$out/soak.csv
echo "run,seconds,exit,mounts,interfaces,libvirt_objects,nft_tables,lab_state_dirs,processes,libvirtd_fds,testbed_peak_fds,testbed_peak_rss_kib,mem_available_kib,image_cache_bytes,results_bytes" >"$csv"

count() { grep -c . || true; }
libvirt_objects() {
  { for u in lxc:///system qemu:///system; do
      virsh -q -c "$u" list --all --name 2>/dev/null
    done
    virsh -q -c lxc:///system net-list --all --name 2>/dev/null; } | count
}
libvirtd_fds() {
  local pid
  pid=$(cat /run/libvirtd.pid 2>/dev/null || pgrep -xo libvirtd)
  ls "/proc/$pid/fd" | wc -l
}
# Polls testbed's fd count and VmHWM while it runs; prints "peak_fds peak_rss_kib".
watch_testbed() {
  local pid=$1 fds=0 rss=0 n r
  while kill -0 "$pid" 2>/dev/null; do
    n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    r=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    ((n > fds)) && fds=$n
    ((${r:-0} > rss)) && rss=$r
    sleep 0.2
  done
  echo "$fds $rss"
}

# (No `testbed gc` here: on a shared host another lab's objects are not ours to judge.)
for ((i = 1; i <= runs; i++)); do
  t0=$(date +%s.%N)
  "$bin" --quiet run "$exp" --output "$out/results" --baseline latest-good --keep-results 3 \
    --junit "$out/junit.xml" >"$out/run-$i.log" 2>&1 &
  pid=$!
  peaks=$(watch_testbed "$pid")
  rc=0
  wait "$pid" || rc=$?
  t1=$(date +%s.%N)
  row="$i,$(echo "$t1 - $t0" | bc),$rc"
  row+=",$(wc -l </proc/self/mounts),$(ls /sys/class/net | wc -l),$(libvirt_objects)"
  row+=",$(nft list tables 2>/dev/null | count),$(ls /var/lib/testbed/labs 2>/dev/null | count)"
  row+=",$(ps -e --no-headers | wc -l),$(libvirtd_fds),${peaks// /,}"
  row+=",$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)"
  row+=",$(du -sb "$images" | cut -f1),$(du -sb "$out/results" | cut -f1)"
  echo "$row" >>"$csv"
  echo "run $i/$runs: exit $rc, $(echo "$t1 - $t0" | bc | cut -c1-5) s" >&2
  ((rc == 0 || rc == 3)) || echo "  run $i failed: see $out/run-$i.log" >&2
done
python3 "$here/bench/soak/slopes.py" "$csv"

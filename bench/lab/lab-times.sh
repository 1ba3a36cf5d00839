#!/bin/sh
# Lab lifecycle figures on the real backend (lxc:///system) with cached images:
#   lab_up_seconds      `testbed lab up topology/two-subnet.yaml` (router + scanner + 3 targets,
#                       until every node answers SSH and passes /testbed/health.sh)
#   node_reset_seconds  `testbed lab reset LAB target1` (fresh overlay, boot, SSH, health)
#   lab_down_seconds    `testbed lab down LAB` (domains, networks, mounts, state removed)
# Goals: up <= 15 s, reset <= 3 s + health time, down <= 5 s.
# Usage: bench/lab/lab-times.sh [TESTBED_BINARY] [REPETITIONS]   (root; prints `name: value`)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/testbed}
reps=${2:-3}
topo=$here/topology/two-subnet.yaml
lab=bench-lab
now() { date +%s.%N; }
"$bin" lab down --ignore-missing "$lab" >/dev/null 2>&1 || true  # a lab an earlier run left
up_all="" reset_all="" down_all=""
i=0
while [ "$i" -lt "$reps" ]; do
  t0=$(now); "$bin" --quiet lab up "$topo" --name "$lab" >/dev/null; t1=$(now)
  "$bin" --quiet lab reset "$lab" target1 >/dev/null; t2=$(now)
  "$bin" --quiet lab down "$lab" >/dev/null; t3=$(now)
  up_all="$up_all $(echo "$t1 - $t0" | bc)"
  reset_all="$reset_all $(echo "$t2 - $t1" | bc)"
  down_all="$down_all $(echo "$t3 - $t2" | bc)"
  i=$((i + 1))
done
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]}'; }
echo "lab_up_seconds: $(median "$up_all")"
echo "node_reset_seconds: $(median "$reset_all")"
echo "lab_down_seconds: $(median "$down_all")"
echo "repetitions: $reps"
echo "nodes: 5"

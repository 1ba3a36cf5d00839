#!/bin/sh
# What one orchestrating machine can pull from a lab host over SSH: a lab host from
# tests/remote-hosts/lab-hosts.sh (own namespaces and sshd, reached over a veth bridge),
# then `ssh … head -c SIZE /dev/zero` streamed back as a capture is (one stream, then
# N in parallel), and N SSH logins in a row. Prints `name: value` lines. Needs root.
#   bench/remote/pull.sh [MiB per stream] [parallel streams]
set -eu
mib=${1:-512}; par=${2:-4}
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../../tests/remote-hosts/lab-hosts.sh"
state=/var/tmp/testbed-pull-bench-$$
trap '"$harness" down "$state" >/dev/null 2>&1 || true' EXIT
"$harness" up "$state" A >/dev/null
ssh_a() {
  ssh -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o BatchMode=yes \
    -o StrictHostKeyChecking=yes root@198.18.0.11 "$@"
}
now() { date +%s.%N; }
t0=$(now); ssh_a "head -c $((mib << 20)) /dev/zero" | wc -c >/dev/null; t1=$(now)
echo "ssh_pull_one_stream_MiB_per_s: $(echo "$mib / ($t1 - $t0)" | bc -l | xargs printf '%.0f')"
t0=$(now)
for i in $(seq "$par"); do ssh_a "head -c $((mib << 20)) /dev/zero" | wc -c >/dev/null & done
wait; t1=$(now)
echo "ssh_pull_${par}_streams_MiB_per_s_total: $(echo "$par * $mib / ($t1 - $t0)" | bc -l | xargs printf '%.0f')"
t0=$(now); for i in $(seq 20); do ssh_a true; done; t1=$(now)
echo "ssh_login_ms: $(echo "($t1 - $t0) * 1000 / 20" | bc -l | xargs printf '%.0f')"
echo "cpus: $(nproc)  load: $(cut -d' ' -f1 /proc/loadavg)"

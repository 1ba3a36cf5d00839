#!/bin/sh
# One VM experiment three ways, timed whole with farm-bench and compared packet for
# packet: on this machine's libvirt (qemu:///system), on one remote lab host, and spread
# over two remote lab hosts (tests/remote-hosts/lab-hosts.sh makes both on this machine,
# each with its own libvirtd, sshd and network namespace; reached over qemu+ssh://).
#   experiments/ci-vm-hosts.yaml (Nmap 7.80 SYN scan of 1000 ports, TCG) with REPS runs,
#   plus `uri: A` or `hosts: [A, B]`.
# Prints each way's wall time (farm-bench, one run each: a run takes minutes), and
# `testbed diff` of the remote results against the local ones (phases beyond the noise
# floor, none expected).
# Usage: bench/remote/hosts-compare.sh [TESTBED_BINARY] [REPS] [OUT_DIR]   (root; the
#   images of ci-vm-hosts.yaml built for vm: testbed image build --backend vm router
#   scanner-nmap-7.80 target-lamp-ftp)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/testbed}
reps=${2:-4}
out=${3:-/var/tmp/testbed-hosts-compare}
hosts_sh=$here/tests/remote-hosts/lab-hosts.sh
state=$(mktemp -d /var/tmp/testbed-compare-hosts.XXXXXX)/hosts  # lab-hosts.sh makes it
mkdir -p "$out"
cleanup() { sh "$hosts_sh" down "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
sh "$hosts_sh" up "$state" A B >/dev/null
A=$(sh "$hosts_sh" uri "$state" A)
B=$(sh "$hosts_sh" uri "$state" B)

# experiments/ci-vm-hosts.yaml with absolute paths, REPS runs and one added line.
experiment() {
  sed -e "s#\.\./topology/#$here/topology/#" -e "s/^repetitions: .*/repetitions: $reps/" \
    -e "s#^output: .*#output: $out/$1#" "$here/experiments/ci-vm-hosts.yaml"
  [ -z "$2" ] || echo "$2"
}
experiment local "" >"$out/local.yaml"
experiment one-host "uri: \"$A\"" >"$out/one-host.yaml"
experiment two-hosts "hosts: [\"$A\", \"$B\"]" >"$out/two-hosts.yaml"

for way in local one-host two-hosts; do
  echo "== $way"
  farm-bench -n 1 --warmup 0 --timeout 3000 -- \
    sh -c "exec $bin run $out/$way.yaml --lab-name cmp-$way >>$out/$way.log 2>&1"
done
for way in one-host two-hosts; do
  echo "== testbed diff $way against local"
  "$bin" diff "$out/$way/ci-vm-hosts/latest" "$out/local/ci-vm-hosts/latest" | head -40 || true
done
for way in local one-host two-hosts; do
  echo "== $way: Table 1"
  sed -n '/^## Table 1/,/^## /p' "$out/$way/ci-vm-hosts/latest/report.md" | head -20
done

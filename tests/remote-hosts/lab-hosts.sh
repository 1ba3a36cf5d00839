#!/bin/sh
# Independent libvirt "lab hosts" on this one machine, for the remote-host tests.
#
#   lab-hosts.sh up STATE NAME...   make one lab host per NAME (A, B, ...); prints its URIs
#   lab-hosts.sh uri STATE NAME     the qemu+ssh:// URI of lab host NAME
#   lab-hosts.sh exec STATE NAME CMD...   run CMD inside that host's namespaces
#   lab-hosts.sh stop STATE NAME    "kill" a host: stop its libvirtd, cut its network
#   lab-hosts.sh revive STATE NAME  start its libvirtd again and reconnect it
#   lab-hosts.sh down STATE         remove every lab host and everything `up` made
#
# Each lab host lives in a network namespace of its own (reached from here over a bridge
# at 198.18.0.1/24, host i at 198.18.0.(10+i)) and a mount namespace of its own (a
# slave of the host's mounts) in which private directories hide /run/libvirt,
# /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt, /var/lib/testbed and a copy of
# /etc/libvirt; there it runs its own virtlogd and libvirtd (pid files under its private
# /run/libvirt: /run/libvirtd.pid is the host daemon's) and its own sshd (a host key made
# here and pinned in STATE/known_hosts; root logs in with STATE/id_ed25519 only).
# QEMU only: no LXC on a remote lab host. The host's own libvirtd is never touched.
#
# `down` kills only processes running in the mount namespaces `up` made (the daemons it
# started, their QEMU guests, SSH sessions), then removes the namespaces, links, bridge
# and STATE. Needs root.
set -eu

# 198.18.0.0/15 is set aside for test networks (RFC 2544) and is not routed anywhere
# here. Not a documentation range: 192.0.2.0/24 and 203.0.113.0/24 are real on this
# machine (its uplink, its package mirror), and a bridge there cuts the machine off.
NET=198.18.0
BRIDGE=tblh-br
HOST_ADDR=$NET.1

die() { echo "lab-hosts: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ $# -ge 2 ] || die "usage: $0 up|uri|exec|stop|revive|down STATE [NAME...]"
cmd=$1; STATE=$2; shift 2

# Host NAME's index (A=1, B=2, ...), address, namespace, link name.
index_of() {
  case "$1" in [A-Z]) printf '%d' $(( $(printf '%d' "'$1") - 64 ));; *) die "host names are A..Z, not '$1'";; esac
}
addr_of() { echo "$NET.$((10 + $(index_of "$1")))"; }
netns_of() { echo "tblh-$1"; }
veth_of() { echo "tblh$1"; }
holder_of() { cat "$STATE/$1/holder.pid" 2>/dev/null || true; }
uri_of() {
  echo "qemu+ssh://root@$(addr_of "$1")/system?keyfile=$STATE/id_ed25519&known_hosts=$STATE/known_hosts&command=$STATE/ssh&no_tty=1"
}
in_host() {  # in_host NAME CMD...: run in lab host NAME's network and mount namespaces
  h=$(holder_of "$1"); shift
  [ -n "$h" ] || die "no such lab host"
  nsenter -t "$h" -m -n -- "$@"
}

# The script a lab host's holder runs inside its fresh mount namespace (already in its
# network namespace): private directories, daemons, then it waits as the namespace's anchor.
inner_script() {
  cat <<'EOF'
set -eu
D=$1; ADDR=$2
# The namespaces, for `down` even if this anchor process is gone by then.
readlink /proc/self/ns/mnt > "$D/ns"; readlink /proc/self/ns/net >> "$D/ns"
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/lib/testbed; do
  mkdir -p "$d" "$D/root$d"
  mount --bind "$D/root$d" "$d"
done
mount --bind "$D/root/etc/libvirt" /etc/libvirt
# /sys as seen from this network namespace (libvirt reads bridges and taps there); the
# cgroup tree stays, minus the cgroup2 mount of a hybrid host (docs/lab-host.md).
mkdir -p "$D/cg"
mount --rbind /sys/fs/cgroup "$D/cg"
mount -t sysfs sysfs /sys
mount --rbind "$D/cg" /sys/fs/cgroup
umount -l "$D/cg"
if grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then umount -l /sys/fs/cgroup/unified; fi
mkdir -p /run/sshd
ip link set lo up
virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d -p /run/libvirt/libvirtd.pid
/usr/sbin/sshd -f "$D/sshd_config"
echo ready > "$D/ready"
exec sleep infinity
EOF
}

sshd_config() {  # sshd_config DIR ADDR
  cat <<EOF
ListenAddress $2
Port 22
HostKey $STATE/$(basename "$1")/ssh_host_ed25519_key
PidFile /run/libvirt/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp internal-sftp
EOF
}

wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  t=$1; shift
  while ! "$@" >/dev/null 2>&1; do
    t=$((t - 1)); [ "$t" -gt 0 ] || return 1; sleep 1
  done
}

up_one() {
  n=$1; d="$STATE/$n"; a=$(addr_of "$n"); ns=$(netns_of "$n"); v=$(veth_of "$n")
  mkdir -p "$d/root/etc"
  # The daemon's directories as the packages made them (dnsmasq/, qemu/, ...), empty.
  for t in /var/lib/libvirt /var/cache/libvirt; do
    (cd "$t" && find . -maxdepth 1 -mindepth 1 -type d) | while read -r sub; do
      mkdir -p "$d/root$t/$sub"
    done
  done
  cp -a /etc/libvirt "$d/root/etc/libvirt"
  rm -rf "$d/root/etc/libvirt/qemu" "$d/root/etc/libvirt/storage" "$d/root/etc/libvirt/lxc"
  # No cgroups for guests: the host's daemon and every lab host share one cgroup tree,
  # where guests of the same name on two hosts would collide.
  # QEMU in the daemon's own mount namespace (so `down` finds every guest there).
  printf 'cgroup_controllers = [ ]\nnamespaces = [ ]\n' > "$d/root/etc/libvirt/qemu.conf"
  ssh-keygen -q -t ed25519 -N '' -C "lab-host-$n" -f "$d/ssh_host_ed25519_key"
  echo "$a $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts"
  sshd_config "$d" "$a" > "$d/sshd_config"
  inner_script > "$d/inner.sh"
  ip netns add "$ns"
  ip link add "$v" type veth peer name "${v}p"
  ip link set "${v}p" netns "$ns"
  ip link set "$v" master "$BRIDGE" up
  ip -n "$ns" link set "${v}p" name eth0
  ip -n "$ns" addr add "$a/24" dev eth0
  ip -n "$ns" link set eth0 up
  nsenter --net="/run/netns/$ns" -- unshare -m --propagation slave sh "$d/inner.sh" "$d" "$a" \
    > "$d/holder.log" 2>&1 &
  echo $! > "$d/holder.pid"
  wait_for 30 test -e "$d/ready" || die "lab host $n did not start: $(cat "$d/holder.log")"
  wait_for 30 in_host "$n" virsh -c qemu:///system version ||
    die "lab host $n: its libvirtd does not answer (see $d/root/var/log/libvirt)"
}

case "$cmd" in
  up)
    [ $# -ge 1 ] || die "up needs host names (A B ...)"
    [ ! -e "$STATE" ] || die "$STATE exists: 'down' it first"
    ! ip link show "$BRIDGE" >/dev/null 2>&1 || die "bridge $BRIDGE exists: another harness runs"
    # Only the default route may cover the subnet, else the bridge would hijack traffic.
    routes=$(ip -4 route show to match "$NET.0/24" | grep -v '^default' || true)
    [ -z "$routes" ] || die "$NET.0/24 is in use on this machine ($routes): not making lab hosts there"
    mkdir -p "$STATE"; chmod 0700 "$STATE"
    STATE=$(cd "$STATE" && pwd)
    ssh-keygen -q -t ed25519 -N '' -C testbed-lab-hosts -f "$STATE/id_ed25519"
    cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
    : > "$STATE/known_hosts"
    # libvirt's ssh transport passes keyfile= to ssh but not known_hosts= (only its libssh
    # transports read that): its `command=` is this wrapper, which pins the same file.
    printf '#!/bin/sh\nexec ssh -o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 "$@"\n' \
      "$STATE/known_hosts" > "$STATE/ssh"
    chmod 0755 "$STATE/ssh"
    ip link add "$BRIDGE" type bridge
    ip addr add "$HOST_ADDR/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    for n in "$@"; do echo "$n" >> "$STATE/hosts"; up_one "$n"; done
    for n in "$@"; do
      wait_for 20 ssh -i "$STATE/id_ed25519" -o UserKnownHostsFile="$STATE/known_hosts" \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 \
        "root@$(addr_of "$n")" true || die "lab host $n: sshd does not answer"
      uri_of "$n"
    done
    ;;
  uri) uri_of "$1" ;;
  exec) n=$1; shift; in_host "$n" "$@" ;;
  stop)
    n=$1; h=$(holder_of "$n")
    pid=$(in_host "$n" cat /run/libvirt/libvirtd.pid)
    kill "$pid"
    wait_for 20 sh -c "! kill -0 $pid" || kill -9 "$pid"
    ip link set "$(veth_of "$n")" down
    ;;
  revive)
    n=$1
    ip link set "$(veth_of "$n")" up
    in_host "$n" libvirtd -d -p /run/libvirt/libvirtd.pid
    wait_for 30 in_host "$n" virsh -c qemu:///system version || die "lab host $n: no libvirtd"
    ;;
  down)
    [ -d "$STATE" ] || exit 0
    STATE=$(cd "$STATE" && pwd)
    for n in $(cat "$STATE/hosts" 2>/dev/null); do
      if [ -s "$STATE/$n/ns" ]; then
        mnt=$(sed -n 1p "$STATE/$n/ns"); net=$(sed -n 2p "$STATE/$n/ns")
        # Everything in those namespaces was started there by this harness.
        for sig in TERM KILL; do
          for p in $(ls /proc | grep -E '^[0-9]+$'); do
            case "$(readlink "/proc/$p/ns/mnt" 2>/dev/null) $(readlink "/proc/$p/ns/net" 2>/dev/null)" in
              "$mnt "*|*" $net") kill -s "$sig" "$p" 2>/dev/null || true ;;
            esac
          done
          [ "$sig" = KILL ] || sleep 2
        done
      fi
      ip netns del "$(netns_of "$n")" 2>/dev/null || true
      ip link del "$(veth_of "$n")" 2>/dev/null || true
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -rf "$STATE"
    ;;
  *) die "unknown command '$cmd'" ;;
esac

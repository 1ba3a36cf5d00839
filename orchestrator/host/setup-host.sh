#!/usr/bin/env bash
# Prepare a Debian 12 host for testbed: install every package the build, the tests
# and the lab need, then make sure the libvirt daemons run. Idempotent: a second run
# installs nothing and starts nothing, and says so.
#
# Facts this relies on (docs/lab-host.md):
#  - without systemd nothing starts libvirtd; it needs its run/log dirs and the
#    kvm/libvirt/libvirt-qemu groups and the libvirt-qemu user or it exits at start;
#  - on hybrid cgroup hosts (cgroup v1 controllers + cgroup2 at /sys/fs/cgroup/unified)
#    libvirt 9.0's LXC driver fails every container start; libvirtd is then started in
#    its own mount namespace (slave of the host's) with that one mount detached.
set -euo pipefail

log() { printf 'setup: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: must run as root (it installs packages and starts libvirtd)" >&2
  exit 1
fi

PACKAGES=(
  # build
  build-essential cmake pkg-config git
  libpcap-dev libyaml-cpp-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libpugixml-dev libssh-dev libvirt-dev libssl-dev libxxhash-dev
  # lab: libvirt with the LXC driver, image builder, capture tools
  libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients dnsmasq-base iptables
  nftables  # the per-lab host firewall (orchestrator/lab/host_firewall.h)
  iproute2 mmdebstrap uidmap tini openssh-server openssh-client
  # tests and benchmarks: independent cross-checks and baselines
  tshark tcpdump python3 python3-dpkt chromium
  cmark  # renders report.md with raw HTML allowed: packet bytes stay inert (tests/report/inert_test.cc)
  # nightly jobs: JUnit schema check (xmllint), unit check (systemd-analyze, offline),
  # `testbed lab graph` (Graphviz dot), --metrics checked by promtool (prometheus; its
  # server is not started by the tests)
  libxml2-utils systemd graphviz prometheus
  # VM backend: libvirt's QEMU driver and QEMU (KVM where /dev/kvm is usable, TCG
  # otherwise); disks made with mkfs.ext4 -d + qemu-img; cloud-image seeds (xorriso)
  libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils e2fsprogs
  xorriso cloud-init libcurl4-openssl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "packages installed"
  # Only promtool is wanted from prometheus: on systemd the package enables and starts its
  # server (port 9090); stop the one this script just installed (never one that was there).
  if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
    log "prometheus server disabled (installed for promtool only)"
  fi
else
  log "all ${#PACKAGES[@]} packages already installed"
fi

# ---- libvirt daemons -------------------------------------------------------
if [[ -d /run/systemd/system ]]; then
  # An ordinary systemd host: the distribution's units know best.
  if systemctl is-active --quiet libvirtd; then
    log "libvirtd already running (systemd)"
    # A QEMU driver installed while it ran is loaded only by a restart (no lab running).
    if ! virsh -q -c qemu:///system uri >/dev/null 2>&1; then
      if [[ -n $(virsh -q -c lxc:///system list --name 2>/dev/null) ]]; then
        echo "setup: restart libvirtd (systemctl restart libvirtd) once no lab runs, so it" \
             "serves qemu:///system" >&2
        exit 4
      fi
      systemctl restart libvirtd
      log "libvirtd restarted to load the QEMU driver (systemd)"
    fi
  else
    systemctl enable --now virtlogd.socket libvirtd.socket libvirtd.service
    log "libvirtd started (systemd)"
  fi
  exit 0
fi

mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt /var/lib/libvirt/dnsmasq
for g in kvm libvirt libvirt-qemu; do
  getent group "$g" >/dev/null || { groupadd --system "$g"; log "created group $g"; }
done
if ! getent passwd libvirt-qemu >/dev/null; then
  useradd --system --no-create-home --home-dir /var/lib/libvirt --gid libvirt-qemu \
    --shell /usr/sbin/nologin libvirt-qemu
  log "created system user libvirt-qemu"
fi

running() { pgrep -x "$1" >/dev/null; }

# /dev/kvm as Debian's udev rules leave it (root:kvm 0660), with QEMU's user in group kvm.
# Without udev (containers, firecracker-like guests) it can be root-only: libvirt's probe
# (run as root) then finds KVM but its cache check (as libvirt-qemu) does not, so it
# re-probes QEMU on every lookup and each domain start takes a minute.
if [[ -c /dev/kvm ]]; then
  if [[ $(stat -c %G:%a /dev/kvm) != kvm:660 && $(stat -c %a /dev/kvm) != 666 ]]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
    log "/dev/kvm made root:kvm 0660"
  fi
  if ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx kvm; then
    usermod -a -G kvm libvirt-qemu
    log "libvirt-qemu added to group kvm"
  fi
fi


# Daemons must not inherit the caller's descriptors: a lock file held by the caller
# (flock, a test runner's pipes) would otherwise stay open in libvirtd for its lifetime.
without_inherited_fds() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if (( fd > 2 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec "$@"
  )
}

if running virtlogd; then
  log "virtlogd already running"
else
  without_inherited_fds virtlogd -d
  log "virtlogd started"
fi


start_libvirtd() {
  if [[ -f /sys/fs/cgroup/unified/cgroup.controllers || $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]] \
     && [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) != cgroup2fs ]]; then
    # Hybrid cgroups: detach the cgroup2 mount for libvirtd only. Slave propagation
    # keeps later host mounts (node overlay roots) visible to the daemon.
    mount --make-rshared /
    without_inherited_fds unshare -m --propagation slave sh -c 'umount -l /sys/fs/cgroup/unified; exec libvirtd -d'
    log "libvirtd started (hybrid cgroups: cgroup2 mount detached in its namespace)"
  else
    without_inherited_fds libvirtd -d
    log "libvirtd started"
  fi
}

wait_for() {  # URI: until the daemon answers on it (it takes a moment to open its socket)
  for _ in $(seq 1 50); do
    virsh -q -c "$1" uri >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

if running libvirtd; then
  log "libvirtd already running"
else
  start_libvirtd
fi

if ! wait_for lxc:///system; then
  echo "setup: libvirtd does not answer on lxc:///system; see /var/log/libvirt/libvirtd.log" >&2
  exit 1
fi
log "libvirt answers on lxc:///system"

# libvirtd loads its drivers when it starts: a QEMU driver installed while it ran is
# served only after a restart. Restart it then, but never under a running lab.
if ! wait_for qemu:///system; then
  running_domains=$( { virsh -q -c lxc:///system list --name 2>/dev/null; virsh -q -c qemu:///system list --name 2>/dev/null; } | grep -c . || true)
  if [[ ${running_domains:-0} -gt 0 ]]; then
    echo "setup: libvirtd does not serve qemu:///system yet and $running_domains domain(s) run;" \
         "restart libvirtd once no lab runs (testbed lab status), then run make setup again" >&2
    exit 4
  fi
  pid=$(cat /run/libvirtd.pid 2>/dev/null || pgrep -xo libvirtd || true)
  if [[ -n $pid ]]; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  start_libvirtd
  if ! wait_for qemu:///system; then
    echo "setup: libvirtd does not answer on qemu:///system after a restart; see" \
         "/var/log/libvirt/libvirtd.log" >&2
    exit 4
  fi
  log "libvirtd restarted to load the QEMU driver"
fi
log "libvirt answers on qemu:///system"
exit 0

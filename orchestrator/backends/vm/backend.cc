#include "orchestrator/backends/vm/backend.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "orchestrator/util/files.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/virt/libvirt_backend.h"

namespace testbed::backends::vm {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
using virt::LibvirtBackend;

namespace {

// In a child process (KVM_RUN may hang where the device exists but the CPU cannot run
// guests): a one-page VM whose only instruction is HLT must exit with KVM_EXIT_HLT.
[[noreturn]] void run_hlt_guest(const std::string& dev_kvm) {
  int kvm = ::open(dev_kvm.c_str(), O_RDWR | O_CLOEXEC);
  if (kvm < 0 || ::ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) _exit(2);
  int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) _exit(3);
  void* mem = ::mmap(nullptr, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) _exit(4);
  static_cast<unsigned char*>(mem)[0] = 0xf4;  // hlt
  kvm_userspace_memory_region region{};
  region.guest_phys_addr = 0x1000;
  region.memory_size = 0x1000;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem);
  if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) _exit(5);
  int vcpu = ::ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) _exit(6);
  int size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size <= 0) _exit(7);
  auto* run = static_cast<kvm_run*>(
      ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
  if (run == MAP_FAILED) _exit(8);
  kvm_sregs sregs{};
  if (::ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) _exit(9);
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (::ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) _exit(10);
  kvm_regs regs{};
  regs.rip = 0x1000;
  regs.rflags = 0x2;
  if (::ioctl(vcpu, KVM_SET_REGS, &regs) < 0) _exit(11);
  if (::ioctl(vcpu, KVM_RUN, 0) < 0) _exit(12);
  _exit(run->exit_reason == KVM_EXIT_HLT ? 0 : 13);
}

}  // namespace

bool cpu_has_virtualisation(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;)
      if (w == "vmx" || w == "svm") return true;
    return false;  // the first CPU's flags decide
  }
  return false;
}

bool kvm_usable(const std::string& dev_kvm) {
  if (::access(dev_kvm.c_str(), R_OK | W_OK) != 0) return false;
  auto cpuinfo = util::read_file("/proc/cpuinfo");
  if (!cpuinfo || !cpu_has_virtualisation(*cpuinfo)) return false;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) run_hlt_guest(dev_kvm);
  // A guest that runs halts within microseconds; give a loaded host two seconds.
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::usleep(10000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}

util::Result<std::string> resolve_accel(const std::string& uri, const std::string& requested,
                                        const std::string& dev_kvm) {
  const bool local = uri.rfind("qemu:///", 0) == 0;  // qemu+ssh://host/...: that host decides
  if (requested == "tcg") return std::string("tcg");
  if (requested == "kvm") {
    if (local && !kvm_usable(dev_kvm))
      return util::fail(
          "accel: kvm needs a usable {} and this host has none (no hardware virtualisation, "
          "the kvm module not loaded, or no permission): use `accel: tcg` or `accel: auto` "
          "(QEMU's emulator: slower, same packets), or run on a KVM host",
          dev_kvm);
    return std::string("kvm");
  }
  if (requested != "auto" && !requested.empty())
    return util::fail("accel '{}' is not one of auto, kvm, tcg", requested);
  if (!local) return std::string("kvm");
  return std::string(kvm_usable(dev_kvm) ? "kvm" : "tcg");
}

util::Result<BackendParts> make_vm_backend(const std::string& uri, VmXmlOptions opts) {
  auto b = LibvirtBackend::connect(uri, std::make_unique<VmXml>(std::move(opts)));
  if (!b) return b.error();
  return BackendParts{std::move(*b), std::make_unique<VmStorage>()};
}

}  // namespace testbed::backends::vm

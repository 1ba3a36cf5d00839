#include "orchestrator/virt/handles.h"

#include <libvirt/virterror.h>

namespace testbed::virt {

namespace {
void quiet_error_handler(void*, virErrorPtr) {}
}  // namespace

SigpipeGuard::SigpipeGuard() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old_);
}

SigpipeGuard::~SigpipeGuard() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  const timespec now{0, 0};
  while (sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

std::string last_libvirt_error() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "no error";
}

util::Result<ConnectHandle> open_connection(const std::string& uri) {
  virSetErrorFunc(nullptr, quiet_error_handler);
  SigpipeGuard no_sigpipe;
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (!c)
    return util::fail(
        "cannot connect to libvirt at '{}': {} (is libvirtd running? `make setup` starts it)", uri,
        last_libvirt_error());
  return ConnectHandle(c);
}

}  // namespace testbed::virt

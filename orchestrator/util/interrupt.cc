#include "orchestrator/util/interrupt.h"

#include <signal.h>

namespace testbed::util {
namespace {

std::atomic<bool> g_flag{false};
std::atomic<int> g_signal{0};

extern "C" void on_interrupt(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig);
  g_flag.store(true);
}

}  // namespace

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& interrupt_flag() { return g_flag; }

const char* interrupt_signal_name() {
  switch (g_signal.load()) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "";
  }
}

}  // namespace testbed::util

#include "financialapi/runtime/signals.h"

#include <pthread.h>

#include <csignal>
#include <thread>

namespace financialapi::runtime {
namespace {

sigset_t TerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void OnTerminationSignal(std::function<void()> on_signal) {
  std::thread([on_signal = std::move(on_signal)] {
    const sigset_t signals = TerminationSignals();
    int received = 0;
    sigwait(&signals, &received);
    on_signal();
  }).detach();
}

}  // namespace financialapi::runtime

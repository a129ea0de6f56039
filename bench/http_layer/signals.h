// Blocks SIGINT/SIGTERM in every thread (call before starting any) and waits for one of them, so
// the benchmark servers stop cleanly when the driver script kills them.
#pragma once

#include <csignal>

namespace financialapi::bench {

inline sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

inline int WaitForStopSignal(const sigset_t& set) {
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace financialapi::bench

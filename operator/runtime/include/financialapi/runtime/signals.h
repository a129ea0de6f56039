#pragma once

#include <functional>

namespace financialapi::runtime {

// Blocks SIGTERM and SIGINT in this thread and every thread created after it. Call it first in main,
// before any library starts threads, or a signal may land on a thread that does not expect it.
void BlockTerminationSignals();

// Runs `on_signal` on a detached thread when SIGTERM or SIGINT arrives (after
// BlockTerminationSignals), so stopping is ordinary code rather than a signal handler.
void OnTerminationSignal(std::function<void()> on_signal);

}  // namespace financialapi::runtime

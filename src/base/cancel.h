// Waiting that a cancellation (Ctrl-C, SIGTERM, another worker's failure) cuts short: the one helper for
// every long wait of a run (retry back-off, the shared throttle pause, export polling, rate limits).
#pragma once

#include <atomic>
#include <chrono>

namespace ddb2s3 {

// How often a wait looks at the cancel flag: a flag set by a signal handler cannot wake a sleeper, so a
// wait notices it within this time.
inline constexpr std::chrono::milliseconds kCancelPollInterval{10};

// True when cancel is set (a null cancel never is).
inline bool is_cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// Sleeps for d, or less when *cancel becomes set (noticed within kCancelPollInterval). True when the whole
// time has passed; false when cancelled, at once if it already was. A null cancel is a plain sleep.
bool wait_unless_cancelled(std::chrono::nanoseconds d, const std::atomic<bool>* cancel);

}  // namespace ddb2s3

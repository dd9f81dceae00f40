// wait_unless_cancelled(): sleeps in short slices, looking at the flag between them.
#include "base/cancel.h"

#include <algorithm>
#include <thread>

namespace ddb2s3 {

bool wait_unless_cancelled(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) {
  using Clock = std::chrono::steady_clock;
  if (is_cancelled(cancel)) return false;
  if (d <= std::chrono::nanoseconds::zero()) return true;
  if (cancel == nullptr) {
    std::this_thread::sleep_for(d);
    return true;
  }
  const auto until = Clock::now() + d;
  for (auto now = Clock::now(); now < until; now = Clock::now()) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kCancelPollInterval));
    if (is_cancelled(cancel)) return false;
  }
  return true;
}

}  // namespace ddb2s3

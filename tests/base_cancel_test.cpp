// wait_unless_cancelled(): the whole wait without a cancel, a prompt return once the flag is set.
#include <gtest/gtest.h>

#include <thread>

#include "base/cancel.h"

namespace ddb2s3 {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(WaitUnlessCancelled, WaitsTheWholeTimeWhenNotCancelled) {
  std::atomic<bool> cancel{false};
  const auto start = Clock::now();
  EXPECT_TRUE(wait_unless_cancelled(milliseconds(60), &cancel));
  EXPECT_GE(Clock::now() - start, milliseconds(60));
  EXPECT_TRUE(wait_unless_cancelled(milliseconds(5), nullptr));  // no flag: a plain sleep
  EXPECT_TRUE(wait_unless_cancelled(milliseconds(0), &cancel));
  EXPECT_TRUE(wait_unless_cancelled(milliseconds(-5), &cancel));
}

TEST(WaitUnlessCancelled, ReturnsFalseAtOnceWhenAlreadyCancelled) {
  std::atomic<bool> cancel{true};
  const auto start = Clock::now();
  EXPECT_FALSE(wait_unless_cancelled(std::chrono::hours(1), &cancel));
  EXPECT_FALSE(wait_unless_cancelled(milliseconds(0), &cancel));
  EXPECT_LT(Clock::now() - start, milliseconds(100));
  EXPECT_TRUE(is_cancelled(&cancel));
  EXPECT_FALSE(is_cancelled(nullptr));
}

TEST(WaitUnlessCancelled, ACancelDuringTheWaitEndsItWithinThePollInterval) {
  std::atomic<bool> cancel{false};
  Clock::time_point set_at{};
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(50));  // let the wait begin (if not, it fails alike)
    set_at = Clock::now();
    cancel = true;
  });
  const auto start = Clock::now();
  const bool waited = wait_unless_cancelled(std::chrono::seconds(30), &cancel);
  const auto end = Clock::now();
  setter.join();
  EXPECT_FALSE(waited);
  EXPECT_LT(end - start, std::chrono::seconds(2));
  EXPECT_LT(end - set_at, milliseconds(200));  // kCancelPollInterval, with room for a loaded machine
}

}  // namespace
}  // namespace ddb2s3

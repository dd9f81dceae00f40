// Retry policy in separate pieces: classify, back off with full jitter, cap the budget, and a
// throttle signal shared by all workers so that they slow down together.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

#include "base/result.h"

namespace ddb2s3 {

// Throttling, transient or client (never retried), from the HTTP status and the AWS error code.
ErrorKind classify(int http_status, std::string_view aws_code);

struct RetryPolicy {
  int max_attempts = 10;  // AWS SDKs' legacy default for DynamoDB; 1 = no retries
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{20'000};  // cap of one back-off
  // Total time spent backing off for one request; past it, the last error is returned.
  std::chrono::milliseconds max_total_delay{120'000};
};

// Injectable time and randomness, so that tests check the policy exactly and without sleeping.
struct RetryClock {
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  // Empty (the default, and system()): the real clock, a wait that ServiceConfig::cancel cuts short
  // (wait_unless_cancelled, base/cancel.h). Tests inject a sleep that only records.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> uniform01;                     // default: a thread-local mt19937_64
  static RetryClock system();
};

// One per scan (or per destination): when any worker is throttled, every worker waits before its
// next request until the shared pause has passed.
class ThrottleSignal {
 public:
  void throttled_until(std::chrono::steady_clock::time_point t);
  std::chrono::steady_clock::time_point paused_until() const;
  uint64_t throttle_count() const { return count_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point until_{};
  std::atomic<uint64_t> count_{0};
};

// Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))], attempt counted from 1.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double uniform01);

}  // namespace ddb2s3

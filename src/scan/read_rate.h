// Internal to scan/: the read-capacity budget of a run (max_rcu, read_capacity_percent): its target from the
// options and DescribeTable, the rate limiter that the run's Scan requests share, and how pages are sized so
// that one page cannot burst far past the budget.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "aws/retry.h"
#include "dynamodb/dynamodb.h"
#include "scan/progress.h"
#include "scan/scan.h"

namespace ddb2s3 {

// Reading past a table's capacity only meets throttles, so a percent above 100 is refused.
inline constexpr double kMaxReadCapacityPercent = 100;
inline constexpr double kMaxRcuLimit = 1e9;

// The checks of max_rcu, read_capacity_percent and ReturnConsumedCapacity that need no AWS call.
Status check_read_rate_options(const ScanOptions& options);

// The run's read-rate target from the options and the table's description; nullopt when neither max_rcu nor
// read_capacity_percent is set. A percent of an on-demand table (or index) whose description gives no read
// capacity (no MaxReadRequestUnits, no WarmThroughput) is a usage error that asks for max_rcu.
Result<std::optional<ReadRateLimit>> read_rate_limit(const ScanOptions& options,
                                                     const TableDescription& table);

// A token bucket of read capacity units with debt: a request reserves its expected cost and goes once the
// debt of those before it is paid off at the current rate; afterwards it settles with what it really
// consumed, so the average holds whatever the estimates. A throttle halves the rate (at most once a second);
// it then recovers by 5% of the target per second up to three quarters of the rate that met the throttle,
// and past that by 1% per second only, up to the target: so a run that meets a table's limit settles under
// it instead of going back over it every few seconds. Time is passed in, so tests need no clock.
class ReadRateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr double kBurstSeconds = 0.25;       // unused budget kept for later, at most
  static constexpr double kRecoveryPerSecond = 0.05;  // of the target, up to the ceiling
  static constexpr double kProbePerSecond = 0.01;     // of the target, past the ceiling
  static constexpr double kCeilingFactor = 0.75;  // the ceiling: this share of the rate that met a throttle
  static constexpr double kThrottleFactor = 0.5;
  static constexpr double kMinShare = 1.0 / 64;  // the rate never drops below this share of the target
  static constexpr std::chrono::milliseconds kThrottleSpacing{1000};

  ReadRateLimiter(double rcu_per_second, TimePoint now, uint64_t throttles_seen = 0);

  // Reserves `units` at `now`; the request may be sent at the returned time (now, or later).
  TimePoint reserve(double units, TimePoint now);
  // What a request reserved against what it consumed: the difference is carried forward.
  void settle(double reserved, double consumed);
  // The run's count of throttles so far: when it grew, the rate drops (at most once per kThrottleSpacing).
  void note_throttles(uint64_t count, TimePoint now);

  double rate(TimePoint now);  // the current rate, recovery applied
  double target() const { return target_; }
  double ceiling() const { return ceiling_; }

 private:
  void advance(TimePoint now);

  double target_;
  double rate_;
  double ceiling_;      // fast recovery ends here (the target until a throttle is met)
  double balance_ = 0;  // units available now; negative: the debt that later requests wait for
  TimePoint last_;
  uint64_t throttles_seen_;
  std::optional<TimePoint> last_drop_;
};

// How many items a page may ask for (Limit) so that its cost stays within `page_units`, given what an item
// has cost so far; nullopt when a full page (1 MB: 128 RCU, 256 strongly consistent) fits. Never more than
// the user's own Limit.
std::optional<int64_t> page_limit(double page_units, double units_per_item, bool consistent_read,
                                  std::optional<int64_t> user_limit);

// What the Scan requests of one run share: consumed capacity counted, and with a target, pacing and page
// size.
class RunReadRate {
 public:
  RunReadRate(std::optional<ReadRateLimit> limit, std::shared_ptr<const ThrottleSignal> throttles,
              const ScanOptions& options, int workers, const TableDescription& table);

  // Before a Scan request: asks for ReturnConsumedCapacity (unless the user chose), sizes the page (Limit)
  // and waits its turn, checking `stopping` every 20 ms. Returns the units reserved, or nullopt when the run
  // stopped while waiting.
  std::optional<double> before_page(ScanRequest& request, const std::function<bool()>& stopping);
  // After the request: what the page consumed (its ConsumedCapacity, or, when the answer has none, an
  // estimate from its size) settles the reservation.
  void after_page(const ScanPage& page, double reserved);

  uint64_t throttles() const { return throttles_ ? throttles_->throttle_count() : 0; }

 private:
  std::optional<ReadRateLimit> limit_;
  std::shared_ptr<const ThrottleSignal> throttles_;
  ScanProgress* progress_;
  std::optional<int64_t> user_limit_;
  bool consistent_;
  int workers_;
  std::mutex mu_;
  std::optional<ReadRateLimiter> limiter_;
  double units_per_item_;              // from DescribeTable's average item size until pages are seen
  double consumed_ = 0, scanned_ = 0;  // over the pages seen
};

}  // namespace ddb2s3

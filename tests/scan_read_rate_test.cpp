// The read-capacity budget on its own: the limiter with time passed in (no sleeping), page sizes, and the
// target that max_rcu and read_capacity_percent give for provisioned, on-demand and index descriptions.
#include <gtest/gtest.h>

#include <chrono>

#include "scan/read_rate.h"

namespace ddb2s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using TimePoint = steady_clock::time_point;

double seconds_between(TimePoint a, TimePoint b) { return std::chrono::duration<double>(b - a).count(); }

const TimePoint kStart = steady_clock::time_point() + std::chrono::hours(1);

TEST(ReadRateLimiter, RequestsSentWhenAllowedAverageTheTarget) {
  ReadRateLimiter limiter(100, kStart);
  TimePoint t = kStart;
  for (int i = 0; i < 100; ++i) {
    t = limiter.reserve(10, t);
    limiter.settle(10, 10);
  }
  // 1,000 units at 100 per second: the first request goes at once, the 100th after 99 requests' worth.
  EXPECT_NEAR(seconds_between(kStart, t), 9.9, 1e-3);
}

TEST(ReadRateLimiter, ConcurrentReservationsQueueUpInOrder) {
  ReadRateLimiter limiter(100, kStart);
  // Four workers ask at the same moment: each waits for the reservations before it.
  EXPECT_EQ(limiter.reserve(20, kStart), kStart);
  EXPECT_NEAR(seconds_between(kStart, limiter.reserve(20, kStart)), 0.2, 1e-6);
  EXPECT_NEAR(seconds_between(kStart, limiter.reserve(20, kStart)), 0.4, 1e-6);
  EXPECT_NEAR(seconds_between(kStart, limiter.reserve(20, kStart)), 0.6, 1e-6);
}

TEST(ReadRateLimiter, WhatAPageReallyConsumedIsCarriedForward) {
  ReadRateLimiter limiter(100, kStart);
  EXPECT_EQ(limiter.reserve(10, kStart), kStart);
  limiter.settle(10, 60);  // the page cost 60, not the 10 expected: the debt is 60
  EXPECT_NEAR(seconds_between(kStart, limiter.reserve(10, kStart)), 0.6, 1e-6);
  limiter.settle(10, 0);  // an overestimate is given back
  EXPECT_NEAR(seconds_between(kStart, limiter.reserve(1, kStart)), 0.6, 1e-6);
}

TEST(ReadRateLimiter, UnusedBudgetIsKeptForAQuarterSecondOnly) {
  ReadRateLimiter limiter(100, kStart);
  const TimePoint later = kStart + std::chrono::seconds(100);  // idle: no 10,000-unit burst afterwards
  int at_once = 0;
  while (limiter.reserve(10, later) == later) ++at_once;
  EXPECT_EQ(at_once, 3);  // 25 units kept: 10 + 10 + 10 go, the next one waits
}

TEST(ReadRateLimiter, AThrottleHalvesTheRateOnceASecondAndItRecoversAdditivelyToUnderTheThrottledRate) {
  ReadRateLimiter limiter(100, kStart, 3);
  limiter.note_throttles(3, kStart);  // no new throttle
  EXPECT_DOUBLE_EQ(limiter.rate(kStart), 100);
  limiter.note_throttles(5, kStart);
  EXPECT_DOUBLE_EQ(limiter.rate(kStart), 50);
  limiter.note_throttles(9, kStart + milliseconds(500));  // other workers' throttles of the same moment
  EXPECT_NEAR(limiter.rate(kStart + milliseconds(500)), 52.5, 1e-9);
  limiter.note_throttles(10, kStart + milliseconds(1000));
  EXPECT_NEAR(limiter.rate(kStart + milliseconds(1000)), 27.5, 1e-9);  // (50 + 5) / 2
  EXPECT_NEAR(limiter.ceiling(), 41.25, 1e-9) << "three quarters of the 55 RCU/s that met the throttle";
  // +5% of the target per second up to the ceiling, then +1% per second, up to the target and no further.
  EXPECT_NEAR(limiter.rate(kStart + milliseconds(3000)), 37.5, 1e-9);
  EXPECT_NEAR(limiter.rate(kStart + milliseconds(5000)), 41.25, 1e-9);
  EXPECT_NEAR(limiter.rate(kStart + milliseconds(15000)), 51.25, 1e-9);
  EXPECT_DOUBLE_EQ(limiter.rate(kStart + std::chrono::seconds(100)), 100);
  EXPECT_DOUBLE_EQ(limiter.target(), 100);
}

TEST(ReadRateLimiter, ThrottledEverySecondTheRateBacksOffToItsFloorNotToZero) {
  ReadRateLimiter limiter(64, kStart);
  TimePoint t = kStart;
  for (uint64_t i = 1; i <= 30; ++i) {
    t += milliseconds(1000);
    limiter.note_throttles(i, t);
  }
  // Each throttle halves the rate and lowers the ceiling of its recovery: a table that stays busy gets a
  // sixty-fourth of the target, 1 RCU/s here, and requests keep going.
  EXPECT_NEAR(limiter.rate(t), 1.0, 1e-9);
  EXPECT_EQ(limiter.reserve(1, t), t);
  EXPECT_GT(seconds_between(t, limiter.reserve(1, t)), 0.7) << "1 unit at 1 per second";
}

TEST(ReadRateLimiter, AfterAThrottleRequestsAreSpacedAtTheLowerRate) {
  ReadRateLimiter limiter(100, kStart);
  limiter.note_throttles(1, kStart);
  EXPECT_EQ(limiter.reserve(10, kStart), kStart);
  // 10 units at ~50 per second (recovering meanwhile): ~0.2 s, not 0.1 s.
  EXPECT_GT(seconds_between(kStart, limiter.reserve(10, kStart)), 0.19);
}

TEST(PageLimit, PagesAreSizedToTheirShareOfTheBudget) {
  EXPECT_EQ(page_limit(10, 0.1, false, std::nullopt), 100);
  EXPECT_EQ(page_limit(10, 0.1, false, 30), 30) << "never more than the user's Limit";
  EXPECT_EQ(page_limit(0.01, 0.1, false, std::nullopt), 1) << "at least one item";
  // A full page is 128 RCU eventually consistent, 256 strongly consistent: no Limit needed then.
  EXPECT_EQ(page_limit(128, 0.1, false, std::nullopt), std::nullopt);
  EXPECT_EQ(page_limit(128, 0.1, true, std::nullopt), 1280);
  EXPECT_EQ(page_limit(300, 0.1, true, 7), 7);
  EXPECT_EQ(page_limit(10, 0, false, std::nullopt), std::nullopt) << "no estimate: no division by 0";
}

TableDescription provisioned_table() {
  TableDescription t;
  t.table_name = "orders";
  t.billing_mode = "PROVISIONED";
  t.read_capacity.provisioned_read_units = 400;
  t.index_names = {"by-status", "by-date"};
  t.global_index_capacity = {{"by-status", ReadCapacity{120, std::nullopt, std::nullopt}}};
  return t;
}

ScanOptions options(std::optional<double> max_rcu, std::optional<double> percent) {
  ScanOptions o;
  o.table = "orders";
  o.max_rcu = max_rcu;
  o.read_capacity_percent = percent;
  return o;
}

TEST(ReadRateTarget, NoFlagsNoLimit) {
  auto l = read_rate_limit(options(std::nullopt, std::nullopt), provisioned_table());
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->has_value());
}

TEST(ReadRateTarget, PercentOfProvisionedCapacityOfTheTableOrItsGlobalIndex) {
  auto l = read_rate_limit(options(std::nullopt, 25), provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 100);
  EXPECT_EQ((*l)->base, "ProvisionedThroughput.ReadCapacityUnits");
  EXPECT_EQ((*l)->base_units, 400);

  ScanOptions o = options(std::nullopt, 50);
  o.request.index_name = "by-status";
  l = read_rate_limit(o, provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 60) << "the global index's own 120 RCU";
  o.request.index_name = "by-date";  // a local index (no capacity of its own): the table's
  l = read_rate_limit(o, provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 200);
}

TEST(ReadRateTarget, OnDemandTablesUseMaxReadRequestUnitsThenWarmThroughput) {
  TableDescription t;
  t.billing_mode = "PAY_PER_REQUEST";
  t.read_capacity = ReadCapacity{0, 3000, 12000};
  auto l = read_rate_limit(options(std::nullopt, 10), t);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ((*l)->base, "OnDemandThroughput.MaxReadRequestUnits");
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 300);

  t.read_capacity.on_demand_max_read_units.reset();
  l = read_rate_limit(options(std::nullopt, 10), t);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ((*l)->base, "WarmThroughput.ReadUnitsPerSecond");
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 1200);

  // The billing summary may be missing: provisioned RCU 0 is on-demand all the same (never a 0 target).
  t.billing_mode.clear();
  l = read_rate_limit(options(std::nullopt, 10), t);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ((*l)->base, "WarmThroughput.ReadUnitsPerSecond");
}

TEST(ReadRateTarget, AnOnDemandTableWithoutABaseIsAUsageErrorAskingForMaxRcu) {
  TableDescription t;
  t.billing_mode = "PAY_PER_REQUEST";
  t.read_capacity.provisioned_read_units = 0;
  auto l = read_rate_limit(options(std::nullopt, 50), t);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(l.error().field, "read_capacity_percent");
  EXPECT_NE(l.error().to_string().find("on-demand"), std::string::npos) << l.error().to_string();
  EXPECT_NE(l.error().to_string().find("max_rcu"), std::string::npos) << l.error().to_string();
  EXPECT_NE(l.error().to_string().find("table 'orders'"), std::string::npos) << l.error().to_string();
}

TEST(ReadRateTarget, BothFlagsTakeTheSmallerAndASegmentTakesItsShare) {
  auto l = read_rate_limit(options(150, 50), provisioned_table());  // 50% of 400 = 200 > 150
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 150);
  l = read_rate_limit(options(500, 50), provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 200);

  ScanOptions o = options(1000, std::nullopt);
  o.total_segments = 8;
  o.segment = 3;
  l = read_rate_limit(o, provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 125) << "one segment of 8: an eighth of the scan's 1,000";
  EXPECT_DOUBLE_EQ((*l)->scan_rcu_per_second, 1000);
  o.segment.reset();  // all 8 segments in this process: the whole target
  l = read_rate_limit(o, provisioned_table());
  ASSERT_TRUE(l && *l);
  EXPECT_DOUBLE_EQ((*l)->rcu_per_second, 1000);
}

TEST(ReadRateOptions, RangesAndReturnConsumedCapacityNone) {
  EXPECT_TRUE(check_read_rate_options(options(0.5, 100)));
  for (double bad : {0.0, -1.0, 2e9}) {
    Status s = check_read_rate_options(options(bad, std::nullopt));
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(s.error().field, "max_rcu");
  }
  for (double bad : {0.0, 100.5, -3.0}) {
    Status s = check_read_rate_options(options(std::nullopt, bad));
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().field, "read_capacity_percent");
  }
  ScanOptions o = options(100, std::nullopt);
  o.request.return_consumed_capacity = "NONE";
  Status s = check_read_rate_options(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
  EXPECT_NE(s.error().message.find("ReturnConsumedCapacity NONE"), std::string::npos) << s.error().message;
  o.request.return_consumed_capacity = "INDEXES";  // reports the total too
  EXPECT_TRUE(check_read_rate_options(o));
  o = options(std::nullopt, std::nullopt);
  o.request.return_consumed_capacity = "NONE";  // no limit: the user's choice stands
  EXPECT_TRUE(check_read_rate_options(o));
}

TEST(RunReadRate, AskForConsumedCapacityAndSizePagesToTheBudget) {
  TableDescription t = provisioned_table();
  t.item_count = 1000;
  t.table_size_bytes = 1000 * 1024;  // 1 KB items: 0.125 RCU each, eventually consistent
  ReadRateLimit limit;
  limit.rcu_per_second = limit.scan_rcu_per_second = 80;
  ScanOptions o = options(80, std::nullopt);
  RunReadRate rate(limit, std::make_shared<ThrottleSignal>(), o, 4, t);
  ScanRequest r;
  auto reserved = rate.before_page(r, [] { return false; });
  ASSERT_TRUE(reserved);
  EXPECT_EQ(r.return_consumed_capacity, "TOTAL");
  // A quarter second of 80 RCU/s over 4 workers: 5 RCU, 40 items of 0.125.
  ASSERT_TRUE(r.limit);
  EXPECT_EQ(*r.limit, 40);
  EXPECT_DOUBLE_EQ(*reserved, 5);

  // Without a limit: nothing waits and the user's request is left as it is (but for the capacity asked).
  RunReadRate free(std::nullopt, std::make_shared<ThrottleSignal>(), o, 4, t);
  ScanRequest u;
  u.return_consumed_capacity = "INDEXES";
  ASSERT_TRUE(free.before_page(u, [] { return false; }));
  EXPECT_EQ(u.return_consumed_capacity, "INDEXES");
  EXPECT_FALSE(u.limit);
}

TEST(RunReadRate, AWaitEndsAsSoonAsTheRunStops) {
  ReadRateLimit limit;
  limit.rcu_per_second = limit.scan_rcu_per_second = 1;
  RunReadRate rate(limit, std::make_shared<ThrottleSignal>(), options(1, std::nullopt), 1,
                   TableDescription{});
  ScanRequest r;
  ASSERT_TRUE(rate.before_page(r, [] { return false; }));  // the first page goes at once
  ScanPage page;
  page.consumed_capacity_units = 1000;  // a debt of ~1,000 seconds
  page.scanned_count = 10;
  rate.after_page(page, 0.5);
  const auto start = steady_clock::now();
  EXPECT_FALSE(rate.before_page(r, [] { return true; }));
  EXPECT_LT(steady_clock::now() - start, milliseconds(500));
}

}  // namespace
}  // namespace ddb2s3

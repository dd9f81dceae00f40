// The read-capacity budget of a run: target, limiter, page size.
#include "scan/read_rate.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

namespace ddb2s3 {
namespace {

constexpr double kUnitBytes = 4096;    // a read unit covers 4 KB of items
constexpr double kPageUnits = 256;     // 1 MB page, strongly consistent (half that eventually consistent)
constexpr double kPageSeconds = 0.25;  // all workers' pages together: at most this much of the budget
constexpr auto kWaitSlice = std::chrono::milliseconds(20);  // a wait checks for the run's end this often

// RCU per 4 KB of items: eventually consistent reads cost half.
double unit_factor(bool consistent) { return consistent ? 1.0 : 0.5; }

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

// The DescribeTable field that read_capacity_percent is a percent of, and its value.
Result<std::pair<std::string, int64_t>> capacity_base(const ScanOptions& o, const TableDescription& t) {
  const ReadCapacity* c = &t.read_capacity;
  std::string what = "table '" + o.table + "'";
  for (const IndexReadCapacity& index : t.global_index_capacity) {
    if (!o.request.index_name.empty() && index.index_name == o.request.index_name) {
      c = &index.capacity;  // a global index has capacity of its own; a local one shares the table's
      what = "index '" + index.index_name + "' of table '" + o.table + "'";
    }
  }
  const bool on_demand = t.billing_mode == "PAY_PER_REQUEST" || c->provisioned_read_units.value_or(0) == 0;
  if (!on_demand)
    return std::pair<std::string, int64_t>{"ProvisionedThroughput.ReadCapacityUnits",
                                           *c->provisioned_read_units};
  if (c->on_demand_max_read_units.value_or(0) > 0)
    return std::pair<std::string, int64_t>{"OnDemandThroughput.MaxReadRequestUnits",
                                           *c->on_demand_max_read_units};
  if (c->warm_read_units.value_or(0) > 0)
    return std::pair<std::string, int64_t>{"WarmThroughput.ReadUnitsPerSecond", *c->warm_read_units};
  Error e = Error::usage(what +
                         " is on-demand (PAY_PER_REQUEST): DescribeTable reports no read capacity to take "
                         "read_capacity_percent of (no OnDemandThroughput.MaxReadRequestUnits and no "
                         "WarmThroughput.ReadUnitsPerSecond)");
  e.hint = "give max_rcu (read capacity units per second) instead";
  return std::move(e).with_field("read_capacity_percent");
}

}  // namespace

Status check_read_rate_options(const ScanOptions& o) {
  auto usage = [](std::string message, const char* field) {
    return Error::usage(std::move(message)).with_field(field);
  };
  if (o.max_rcu && !(*o.max_rcu > 0 && *o.max_rcu <= kMaxRcuLimit))
    return usage(
        "max_rcu must be a number of read capacity units per second above 0 and at most 1000000000, not " +
            number_text(*o.max_rcu),
        "max_rcu");
  if (o.read_capacity_percent &&
      !(*o.read_capacity_percent > 0 && *o.read_capacity_percent <= kMaxReadCapacityPercent))
    return usage(
        "read_capacity_percent must be above 0 and at most 100 (reading past the table's capacity only "
        "meets throttles), not " +
            number_text(*o.read_capacity_percent),
        "read_capacity_percent");
  if ((o.max_rcu || o.read_capacity_percent) && o.request.return_consumed_capacity == "NONE")
    return usage(
        std::string(o.max_rcu ? "max_rcu" : "read_capacity_percent") +
            " needs the consumed capacity of every page: ReturnConsumedCapacity NONE hides it; leave "
            "ReturnConsumedCapacity out (TOTAL is asked for) or give TOTAL or INDEXES",
        o.max_rcu ? "max_rcu" : "read_capacity_percent");
  return {};
}

Result<std::optional<ReadRateLimit>> read_rate_limit(const ScanOptions& o, const TableDescription& t) {
  if (!o.max_rcu && !o.read_capacity_percent) return std::optional<ReadRateLimit>();
  ReadRateLimit l;
  l.max_rcu = o.max_rcu;
  l.read_capacity_percent = o.read_capacity_percent;
  double scan = o.max_rcu.value_or(INFINITY);
  if (o.read_capacity_percent) {
    DDB2S3_ASSIGN_OR_RETURN(auto base, capacity_base(o, t));
    l.base = std::move(base.first);
    l.base_units = base.second;
    scan = std::min(scan, static_cast<double>(l.base_units) * *o.read_capacity_percent / 100);
  }
  l.scan_rcu_per_second = scan;
  // One segment of a shared scan: this process takes its share, so the target holds for the whole scan.
  l.rcu_per_second = o.segment ? scan / std::max(1, o.total_segments) : scan;
  return std::optional<ReadRateLimit>(l);
}

ReadRateLimiter::ReadRateLimiter(double rcu_per_second, TimePoint now, uint64_t throttles_seen)
    : target_(rcu_per_second),
      rate_(rcu_per_second),
      ceiling_(rcu_per_second),
      last_(now),
      throttles_seen_(throttles_seen) {}

void ReadRateLimiter::advance(TimePoint now) {
  if (now <= last_) return;
  const double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  const double before = rate_;
  if (rate_ < ceiling_) {
    rate_ = std::min(ceiling_, rate_ + kRecoveryPerSecond * target_ * dt);
  } else if (rate_ < target_) {
    rate_ = std::min(target_, rate_ + kProbePerSecond * target_ * dt);
  }
  balance_ = std::min(balance_ + (before + rate_) / 2 * dt, rate_ * kBurstSeconds);
}

ReadRateLimiter::TimePoint ReadRateLimiter::reserve(double units, TimePoint now) {
  advance(now);
  TimePoint ready = now;
  if (balance_ < 0) {
    ready += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(-balance_ / rate_));
  }
  balance_ -= units;
  return ready;
}

void ReadRateLimiter::settle(double reserved, double consumed) { balance_ += reserved - consumed; }

void ReadRateLimiter::note_throttles(uint64_t count, TimePoint now) {
  advance(now);
  if (count <= throttles_seen_) return;
  throttles_seen_ = count;
  if (last_drop_ && now - *last_drop_ < kThrottleSpacing) return;
  last_drop_ = now;
  ceiling_ = std::max(rate_ * kCeilingFactor, target_ * kMinShare);
  rate_ = std::max(rate_ * kThrottleFactor, target_ * kMinShare);
  balance_ = std::min(balance_, rate_ * kBurstSeconds);
}

double ReadRateLimiter::rate(TimePoint now) {
  advance(now);
  return rate_;
}

std::optional<int64_t> page_limit(double page_units, double units_per_item, bool consistent_read,
                                  std::optional<int64_t> user_limit) {
  const double full_page = kPageUnits * unit_factor(consistent_read);
  if (page_units >= full_page || !(units_per_item > 0)) return user_limit;
  const double items = std::max(1.0, std::floor(page_units / units_per_item));
  const int64_t limit = items >= static_cast<double>(INT32_MAX) ? INT32_MAX : static_cast<int64_t>(items);
  return user_limit ? std::min(*user_limit, limit) : limit;
}

RunReadRate::RunReadRate(std::optional<ReadRateLimit> limit, std::shared_ptr<const ThrottleSignal> throttles,
                         const ScanOptions& o, int workers, const TableDescription& table)
    : limit_(std::move(limit)),
      throttles_(std::move(throttles)),
      progress_(o.progress),
      user_limit_(o.request.limit),
      consistent_(o.request.consistent_read.value_or(false)),
      workers_(std::max(1, workers)) {
  // Until pages are seen, an item costs what DescribeTable's average item size says (4 KB when unknown:
  // small first pages rather than a burst).
  double item_bytes = kUnitBytes;
  if (table.item_count > 0 && table.table_size_bytes > 0)
    item_bytes = static_cast<double>(table.table_size_bytes) / static_cast<double>(table.item_count);
  units_per_item_ = std::min(item_bytes, kUnitBytes) / kUnitBytes * unit_factor(consistent_);
  if (limit_) limiter_.emplace(limit_->rcu_per_second, std::chrono::steady_clock::now(), this->throttles());
  if (progress_ != nullptr && limit_) progress_->rcu_target = limit_->rcu_per_second;
}

std::optional<double> RunReadRate::before_page(ScanRequest& request, const std::function<bool()>& stopping) {
  if (request.return_consumed_capacity.empty()) request.return_consumed_capacity = "TOTAL";
  const uint64_t throttled = throttles();
  if (progress_ != nullptr) progress_->throttles.store(throttled, std::memory_order_relaxed);
  if (!limiter_) return 0.0;
  std::chrono::steady_clock::time_point ready;
  double reserved = 0;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    limiter_->note_throttles(throttled, now);
    const double per_item = scanned_ > 0 && consumed_ > 0 ? consumed_ / scanned_ : units_per_item_;
    const double page_units =
        std::max(unit_factor(consistent_), limiter_->rate(now) * kPageSeconds / workers_);
    request.limit = page_limit(page_units, per_item, consistent_, user_limit_);
    const double full_page = kPageUnits * unit_factor(consistent_);
    reserved =
        request.limit ? std::min(full_page, static_cast<double>(*request.limit) * per_item) : full_page;
    reserved = std::max(reserved, unit_factor(consistent_));  // a Scan costs at least one read
    ready = limiter_->reserve(reserved, now);
  }
  for (auto now = std::chrono::steady_clock::now(); now < ready; now = std::chrono::steady_clock::now()) {
    if (stopping()) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(ready - now, kWaitSlice));
  }
  return reserved;
}

void RunReadRate::after_page(const ScanPage& page, double reserved) {
  if (!limiter_) return;
  // Without ConsumedCapacity in the answer (a server that does not report it), its size stands in: Scan
  // answers are larger than the items' stored size, so this overestimates.
  const double consumed = page.consumed_capacity_units.value_or(
      std::ceil(static_cast<double>(page.body.size()) / kUnitBytes) * unit_factor(consistent_));
  std::lock_guard lock(mu_);
  limiter_->settle(reserved, consumed);
  consumed_ += consumed;
  scanned_ += static_cast<double>(page.scanned_count);
}

}  // namespace ddb2s3

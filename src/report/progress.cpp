#include "report/progress.h"

#include <cinttypes>
#include <cmath>

namespace ddb2s3 {

ProgressSnapshot snapshot(const ScanProgress& p, double seconds) {
  ProgressSnapshot s;
  s.items = p.items.load();
  s.scanned = p.scanned.load();
  s.scan_bytes = p.scan_bytes.load();
  s.stored_bytes = p.stored_bytes.load();
  s.files = p.files.load();
  s.segments_done = p.segments_done.load();
  s.segments_total = p.segments_total;
  s.table_item_count = p.table_item_count;
  s.consumed_rcu = p.consumed_rcu.load();
  s.rcu_target = p.rcu_target;
  s.throttles = p.throttles.load();
  s.seconds = seconds;
  return s;
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1000 && unit < 5) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  }
  return buf;
}

std::string format_progress(const ProgressSnapshot& s) {
  std::string out = format_count(s.items) + " items  " + format_bytes(s.scan_bytes) + " scanned  " +
                    format_bytes(s.stored_bytes) + " stored";
  if (s.seconds > 0) {
    out += "  " + format_count(static_cast<uint64_t>(static_cast<double>(s.items) / s.seconds)) + " items/s  " +
           format_bytes(static_cast<uint64_t>(static_cast<double>(s.scan_bytes) / s.seconds)) + "/s";
  }
  if (s.seconds > 0 && (s.consumed_rcu > 0 || s.rcu_target > 0)) {
    out += "  " + format_count(static_cast<uint64_t>(std::llround(s.consumed_rcu / s.seconds))) + " RCU/s";
    if (s.rcu_target > 0) out += " of " + format_count(static_cast<uint64_t>(std::llround(s.rcu_target)));
  }
  if (s.throttles > 0)
    out += "  " + format_count(s.throttles) + (s.throttles == 1 ? " throttle" : " throttles");
  if (s.segments_total > 1)
    out += "  " + std::to_string(s.segments_done) + "/" + std::to_string(s.segments_total) + " segments";
  // Scanned items (not written ones) measure how far through the table we are, filters or not.
  if (s.table_item_count > 0 && s.scanned > 0 && s.seconds > 0) {
    auto total = static_cast<uint64_t>(s.table_item_count);
    if (s.scanned < total) {
      double rate = static_cast<double>(s.scanned) / s.seconds;
      auto left = static_cast<uint64_t>(static_cast<double>(total - s.scanned) / rate);
      char buf[48];
      std::snprintf(buf, sizeof buf, "  ETA %" PRIu64 ":%02" PRIu64 ":%02" PRIu64, left / 3600, (left / 60) % 60,
                    left % 60);
      out += buf;
    }
  }
  return out;
}

ProgressPrinter::ProgressPrinter(const ScanProgress& progress, std::FILE* out, bool enabled,
                                 std::chrono::milliseconds interval)
    : progress_(progress), out_(out), interval_(interval) {
  if (enabled) thread_ = std::thread([this] { loop(); });
}

ProgressPrinter::~ProgressPrinter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
}

void ProgressPrinter::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return done_; })) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string line = format_progress(snapshot(progress_, secs));
    std::fprintf(out_, "\r\033[K%s", line.c_str());
    std::fflush(out_);
  }
}

}  // namespace ddb2s3

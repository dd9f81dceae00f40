// Progress of a long run on a terminal: one line redrawn about once a second on stderr.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "scan/progress.h"

namespace ddb2s3 {

// A copy of the counters at one moment.
struct ProgressSnapshot {
  uint64_t items = 0, scanned = 0, scan_bytes = 0, stored_bytes = 0, files = 0;
  int segments_done = 0, segments_total = 0;
  int64_t table_item_count = 0;
  double consumed_rcu = 0, rcu_target = 0;
  uint64_t throttles = 0;
  double seconds = 0;
};

ProgressSnapshot snapshot(const ScanProgress& progress, double seconds);

// "1,234,567 items  812.3 MB scanned  45.1 MB stored  52,000 items/s  34.2 MB/s  3/8 segments  ETA 0:01:20",
// with "  1,234 RCU/s" (read capacity consumed; "of 1,500" with a target) and "  3 throttles" when met.
// The ETA comes from DescribeTable's ItemCount (AWS updates it about every six hours: an estimate).
std::string format_progress(const ProgressSnapshot& s);

// Human sizes and counts: 1.5 KB, 812.3 MB; 1,234,567.
std::string format_bytes(uint64_t bytes);
std::string format_count(uint64_t n);

// Redraws the progress line every interval on `out` while alive; the destructor clears the line.
// Does nothing when disabled (not a terminal, or --quiet).
class ProgressPrinter {
 public:
  ProgressPrinter(const ScanProgress& progress, std::FILE* out, bool enabled,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

 private:
  void loop();
  const ScanProgress& progress_;
  std::FILE* out_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace ddb2s3

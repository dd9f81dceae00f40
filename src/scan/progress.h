// The counters of a scan in progress, shared by the workers that update them and a display that reads them.
#pragma once

#include <atomic>
#include <cstdint>

namespace ddb2s3 {

// Counters of a run in progress, updated by the workers (read them from any thread).
struct ScanProgress {
  std::atomic<uint64_t> items{0};         // items written
  std::atomic<uint64_t> scanned{0};       // items DynamoDB read (ScannedCount)
  std::atomic<uint64_t> scan_bytes{0};    // bytes of Scan responses
  std::atomic<uint64_t> stored_bytes{0};  // bytes of data files written so far (compressed), open ones too
  std::atomic<uint64_t> files{0};         // data files finished
  std::atomic<uint64_t> pages{0};
  std::atomic<double> consumed_rcu{0};  // read capacity units consumed (ConsumedCapacity)
  std::atomic<uint64_t> throttles{0};   // throttled requests met so far
  std::atomic<int> segments_done{0};
  int segments_total = 0;
  int64_t table_item_count = 0;  // DescribeTable's ItemCount (approximate): for the ETA
  double rcu_target = 0;         // this process's read-rate target in RCU per second; 0: none
};

}  // namespace ddb2s3

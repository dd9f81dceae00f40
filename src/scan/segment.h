// Internal to scan/: the segment workers of one run, and what they share (RunContext) and give back
// (SegmentResult). run_scan() starts them; nothing outside scan/ includes this header.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "scan/scan.h"

namespace ddb2s3 {

struct SegmentResult {
  int segment = 0;
  std::vector<DataFile> files;
  uint64_t items = 0, scanned = 0, scan_bytes = 0, pages = 0;
  double consumed_rcu = 0;  // the pages' ConsumedCapacity
};

class Checkpoints;
class RunReadRate;

// Shared by the workers of one run.
struct RunContext {
  const ScanOptions& options;
  std::shared_ptr<const ServiceConfig> source;
  Sink& sink;
  std::string run_prefix;  // RUN_ID/
  const Checkpoints* checkpoints = nullptr;  // where segments start from and record their progress
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> first_error;
  std::vector<SegmentResult> results;
  RunReadRate* read_rate = nullptr;  // counts and paces the Scan requests (scan/read_rate.h); set by the run

  bool stopping() const {
    return stop.load(std::memory_order_relaxed) ||
           (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed));
  }
  void fail(Error e) {
    std::lock_guard lock(mu);
    if (!first_error) first_error = std::move(e);
    stop = true;
  }
  void count(std::atomic<uint64_t> ScanProgress::*field, uint64_t n) const {
    if (options.progress != nullptr) (options.progress->*field).fetch_add(n, std::memory_order_relaxed);
  }
};

Error cancelled_error();

// Workers take segments from a shared counter (next indexes segments) until none is left or the run stops;
// each worker owns its transcoder and compressor. Results go to ctx.results, the first error to ctx.fail().
void run_worker(RunContext& ctx, std::atomic<int>& next, const std::vector<int>& segments);

}  // namespace ddb2s3

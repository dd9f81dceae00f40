// Scan mode, the library's front door: copy a DynamoDB table into S3 (or a local directory) as
// data files plus manifests, with all segments of a parallel scan in this process, or one segment
// of a scan that many processes share (then finalize_run() writes the run's manifests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/config.h"
#include "aws/environment.h"
#include "aws/session.h"
#include "base/result.h"
#include "dynamodb/dynamodb.h"
#include "s3/s3.h"
#include "scan/compress.h"
#include "scan/manifest.h"
#include "scan/parallel.h"
#include "scan/progress.h"
#include "scan/transcode.h"
#include "sink/sink.h"

namespace ddb2s3 {

inline constexpr uint64_t kDefaultFileSize = 128ull << 20;  // 128 MiB (the operator's 1000 bytes is not kept)

struct ScanOptions {
  // Source: the table and its AWS side (profile, region, endpoint).
  std::string table;
  AwsOptions source;
  // Scan request fields (the operator's dynamodb_scan_kwargs). table_name, segment, total_segments and
  // exclusive_start_key_json are managed by the run; a user's ExclusiveStartKey is allowed with one segment.
  ScanRequest request;

  // Destination: s3://BUCKET/PREFIX or a local directory, and its AWS side.
  Destination dest;
  AwsOptions dest_aws;
  ObjectOptions object_options;  // SSE, storage class, ACL, metadata... for every object written
  std::string expected_bucket_owner;

  // Output.
  OutputFormat format = OutputFormat::kJsonl;
  Compression compression = Compression::kGzip;
  int compression_level = kDefaultCompressionLevel;
  uint64_t file_size = kDefaultFileSize;  // a data file rolls at the first page end at or past this size

  // Parallelism: total_segments > 1 is a parallel scan; with `segment` set, only that segment runs here
  // (both checked by check_segments(), scan/parallel.h).
  int total_segments = 1;
  std::optional<int> segment;
  // segment 'auto': run_scan() sets segment from the scheduler's index (segment_from_scheduler(env,
  // total_segments), scan/parallel.h), once total_segments is known; with segment also set, a usage error.
  bool segment_auto = false;
  int parallelism = 0;  // segments scanned at once; 0: min(total_segments, 4 x cores, 64)
  std::string run_id;   // empty: UTC time plus a random suffix (required with `segment`)
  // Continue run_id after a crash from its checkpoints (PREFIX/RUN/checkpoints/): finished segments are not
  // read again, the others go on from their last finished data file. A finished run (or segment) is left as
  // it is (ScanSummary::already_complete); a run without checkpoints starts. Needs run_id.
  bool resume = false;
  // Each segment writes a checkpoint whenever one of its data files is complete (what resume needs), at most
  // once per checkpoint_interval seconds (a file finished sooner goes into the next checkpoint, written after
  // a later page; the segment's end is recorded at once); 0: after every data file.
  bool checkpoints = true;
  double checkpoint_interval = 1.0;

  // Read capacity, for a live table: the whole scan reads at most max_rcu read capacity units per second on
  // average (with `segment` set, this process takes max_rcu / total_segments), or read_capacity_percent
  // (above 0, at most 100) of the table's read capacity as DescribeTable reports it: provisioned
  // ReadCapacityUnits (of the global index for an IndexName), for on-demand tables
  // OnDemandThroughput.MaxReadRequestUnits, else WarmThroughput.ReadUnitsPerSecond, else a usage error.
  // Both: the smaller. Neither (the default): as fast as the table allows. A throttle halves the rate, which
  // then recovers by 5% of the target per second up to 3/4 of the rate that met the throttle, then by 1%.
  std::optional<double> max_rcu;
  std::optional<double> read_capacity_percent;

  // S3 uploads: part size and how many parts may be in flight (memory bound: their product).
  uint64_t part_size = 8ull << 20;  // at most; with many workers smaller: max(5 MiB, 128 MiB / workers)
  int max_parts_in_flight = 0;  // 0: min(2 x parallelism + 2, 8)
  int upload_threads = 0;       // 0: min(max_parts_in_flight, 16)

  // The operator's process_func: sees each item's line and appends what to write (or nothing).
  ItemCallback item_callback;
  // Set it (e.g. from a SIGINT handler) to stop the run: it fails as cancelled, uploads aborted.
  std::atomic<bool>* cancel = nullptr;
  // Counters for a progress display; may be null.
  ScanProgress* progress = nullptr;

  Environment env = Environment::process();
  SessionOptions session;
};

// The read rate a run kept to (max_rcu, read_capacity_percent), as its summary reports it.
struct ReadRateLimit {
  double rcu_per_second = 0;       // this process's target: the scan's, or its share with `segment`
  double scan_rcu_per_second = 0;  // the whole scan's: max_rcu or the percent of base_units, the smaller
  std::optional<double> max_rcu;
  std::optional<double> read_capacity_percent;
  std::string base;        // with read_capacity_percent: the DescribeTable field, e.g.
                           // ProvisionedThroughput.ReadCapacityUnits
  int64_t base_units = 0;  // its value
};

// What run_scan() and finalize_run() report: the run's record (what the manifests say, with
// run.segment >= 0 when one segment of a shared scan ran) and what only a summary has.
struct ScanSummary {
  RunRecord run;
  std::string destination;  // s3://bucket/prefix/run-id or the directory/run-id
  std::string summary_key;  // where manifest-summary.json went; empty for a single segment of a shared scan
  std::string segment_manifest_key;  // segments/I.json when one segment ran
  // With resume: the run (or the segment) was complete already, and nothing was read or written.
  bool already_complete = false;
  std::optional<ReadRateLimit> read_limit;  // when max_rcu or read_capacity_percent was set
};

// Memory is bounded by pages, parsers and S3 parts in flight per segment. With many segments glibc's
// default malloc keeps freed multi-MiB buffers in its arenas; the ddb2s3 program therefore sets
// mallopt(M_MMAP_THRESHOLD, 128 KiB) and mallopt(M_ARENA_MAX, 4) (src/cli/main.cpp), which a program
// embedding the library may want too (it is process-wide, so the library does not do it).
//
// Validates options (usage errors before any AWS call, naming the option at fault as its ScanOptions member,
// e.g. total_segments, in the message and in Error::field), checks the table (DescribeTable) and the
// destination (HeadBucket / directory), scans, writes data files and manifests. On any failure or
// cancellation: in-flight uploads are aborted and no manifest-summary.json is written. Before the manifests,
// data files that no manifest lists (left by a killed or retried attempt) are removed from data/.
Result<ScanSummary> run_scan(ScanOptions options);

struct FinalizeOptions {
  Destination dest;
  AwsOptions dest_aws;
  ObjectOptions object_options;
  std::string expected_bucket_owner;
  std::string run_id;
  // Set it (e.g. from a SIGINT handler) to stop waiting to retry a request: the call fails as cancelled.
  std::atomic<bool>* cancel = nullptr;
  Environment env = Environment::process();
  SessionOptions session;
};

// Reads PREFIX/RUN/segments/*.json of a scan shared by many processes, checks that all N segments
// are there (an Error naming the missing ones otherwise), removes what data/ holds beyond the segment
// manifests' files (a killed or retried process's leftovers) and writes the run's manifests. The summary's
// scan_bytes and pages are the segments' sums; its seconds the shared scan's wall time, from the earliest
// segment's start to the latest one's end (segment manifests of older versions count as 0).
Result<ScanSummary> finalize_run(FinalizeOptions options);

// A fresh run id: UTC time (20261126T153000Z) and a short random suffix.
std::string make_run_id();

}  // namespace ddb2s3

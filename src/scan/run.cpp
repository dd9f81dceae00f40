// The run of a scan: options checked, table and destination checked, segment workers started, and the
// data files' manifests (or the segment manifest of a shared scan) written at the end.
#include <algorithm>
#include <random>
#include <thread>

#include "base/time.h"
#include "scan/manifest.h"
#include "scan/parallel.h"
#include "scan/read_rate.h"
#include "scan/run_output.h"
#include "scan/scan.h"
#include "scan/segment.h"

namespace ddb2s3 {
namespace {

using Clock = std::chrono::system_clock;

// Options are named as the members of ScanOptions (field), so that a caller can say them its way.
Status validate(const ScanOptions& o) {
  auto usage = [](std::string message, const char* field) {
    return Error::usage(std::move(message)).with_field(field);
  };
  if (o.table.empty()) return usage("no table given", "table");
  DDB2S3_RETURN_IF_ERROR(check_segments(o.total_segments, o.segment));
  if (o.segment) {
    if (o.run_id.empty())
      return usage(
          "segment needs run_id: every process of one shared scan must use the same run id, "
          "so that finalizing the run finds all segments",
          "run_id");
  }
  if (!o.run_id.empty() && !valid_run_id(o.run_id))
    return usage("run_id '" + o.run_id + "' may only hold letters, digits, '-', '_' and '.' (at most 128)",
                 "run_id");
  if (o.file_size == 0) return usage("file_size must be at least 1 byte", "file_size");
  if (o.parallelism < 0) return usage("parallelism must be 0 (the default) or more", "parallelism");
  if (o.part_size < (5ull << 20))
    return usage("part_size (of S3 uploads) must be at least 5 MiB", "part_size");
  if (!o.request.exclusive_start_key_json.empty() && o.total_segments > 1)
    return usage("ExclusiveStartKey can only be given for a scan of one segment", "ExclusiveStartKey");
  if (o.request.segment || o.request.total_segments)
    return usage("give Segment/TotalSegments as segment/total_segments, not in the Scan request", "Segment");
  DDB2S3_RETURN_IF_ERROR(check_read_rate_options(o));
  ScanRequest probe = o.request;
  probe.table_name = o.table;
  DDB2S3_RETURN_IF_ERROR(build_scan_body(probe));
  return {};
}

int default_parallelism(const ScanOptions& o, int segments) {
  if (o.parallelism > 0) return std::min(o.parallelism, segments);
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min({segments, 4 * cores, 64}));
}

RunRecord base_record(const ScanOptions& o, const std::string& run_id, const std::string& table_arn) {
  RunRecord r;
  r.run_id = run_id;
  r.table = o.table;
  r.table_arn = table_arn;
  r.bucket = o.dest.is_s3 ? o.dest.bucket : "";
  r.prefix = o.dest.is_s3 ? o.dest.prefix : o.dest.directory;
  r.sse_algorithm = std::string(o.object_options.get("x-amz-server-side-encryption"));
  r.sse_kms_key_id = std::string(o.object_options.get("x-amz-server-side-encryption-aws-kms-key-id"));
  r.format = o.format;
  r.compression = o.compression;
  r.total_segments = o.total_segments;
  ScanRequest shown = o.request;
  shown.table_name = o.table;
  auto body = build_scan_body(shown);
  r.scan_json = body ? *body : "{}";
  return r;
}

}  // namespace

std::string make_run_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string id = format_iso8601_basic(std::chrono::floor<std::chrono::seconds>(Clock::now())) + "-";
  for (int i = 0; i < 6; ++i) id += kAlphabet[rd() % 36];
  return id;
}

Result<ScanSummary> run_scan(ScanOptions o) {
  DDB2S3_RETURN_IF_ERROR(validate(o));
  DDB2S3_RETURN_IF_ERROR(Compressor::make(o.compression, o.compression_level));
  if (o.run_id.empty()) o.run_id = make_run_id();
  const auto started = Clock::now();

  DDB2S3_ASSIGN_OR_RETURN(auto source, make_service_config("dynamodb", o.source, o.env, o.session));
  // Up front, before any data moves: the table exists and may be read, the bucket may be written.
  DynamoDbClient ddb(source);
  DDB2S3_ASSIGN_OR_RETURN(auto table, ddb.describe_table(o.table));
  DDB2S3_ASSIGN_OR_RETURN(auto read_limit, read_rate_limit(o, table));

  std::vector<int> segments;
  if (o.segment) {
    segments.push_back(*o.segment);
  } else {
    for (int i = 0; i < o.total_segments; ++i) segments.push_back(i);
  }
  const int workers = default_parallelism(o, static_cast<int>(segments.size()));
  // Parts queued or uploading, across all segments: capped so that memory does not grow with segments
  // (each open object also fills one part buffer of its own).
  const int max_parts = o.max_parts_in_flight > 0 ? o.max_parts_in_flight : std::min(2 * workers + 2, 8);
  const int upload_threads = o.upload_threads > 0 ? o.upload_threads : std::min(max_parts, 16);
  // Every open object fills a part of its own: with many workers, smaller parts (S3's 5 MiB minimum at
  // most) keep those buffers near 128 MiB in all (32 segments: 5 MiB parts, 160 MiB instead of 256).
  const uint64_t part_size =
      std::max<uint64_t>(5ull << 20, std::min<uint64_t>(o.part_size, (128ull << 20) / static_cast<uint64_t>(workers)));
  S3SinkOptions s3;
  s3.part_size = part_size;
  s3.max_parts_in_flight = max_parts;
  s3.upload_threads = upload_threads;
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_run_sink(sink_options(o, std::move(s3)), o.run_id));

  if (o.progress != nullptr) {
    o.progress->segments_total = static_cast<int>(segments.size());
    o.progress->table_item_count = table.item_count;
  }
  RunContext ctx{o, source, *sink, o.run_id + "/"};
  RunReadRate read_rate(read_limit, source->throttle, o, workers, table);
  ctx.read_rate = &read_rate;
  {
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < workers; ++i) pool.emplace_back([&] { run_worker(ctx, next, segments); });
    for (auto& t : pool) t.join();
  }
  if (ctx.first_error) return std::move(*ctx.first_error);
  if (o.cancel != nullptr && o.cancel->load()) return cancelled_error();

  std::sort(ctx.results.begin(), ctx.results.end(),
            [](const SegmentResult& a, const SegmentResult& b) { return a.segment < b.segment; });
  ScanSummary summary;
  summary.run = base_record(o, o.run_id, table.table_arn);
  RunRecord& run = summary.run;
  for (auto& r : ctx.results) {
    run.item_count += r.items;
    run.scanned_count += r.scanned;
    run.scan_bytes += r.scan_bytes;
    run.pages += r.pages;
    run.consumed_rcu += r.consumed_rcu;
    for (auto& f : r.files) run.files.push_back(std::move(f));
  }
  run.throttles = read_rate.throttles();
  summary.read_limit = read_limit;
  run.start_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(started));
  const auto scanned = Clock::now();
  run.end_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(scanned));
  run.seconds = std::chrono::duration<double>(scanned - started).count();  // as the segment manifest says

  if (o.segment) {
    run.segment = *o.segment;
    std::string key = o.dest.key(o.run_id + "/" + segment_manifest_name(*o.segment));
    DDB2S3_RETURN_IF_ERROR(sink->put(key, segment_manifest_json(run), "application/json"));
    summary.segment_manifest_key = key;
  } else {
    DDB2S3_ASSIGN_OR_RETURN(summary.summary_key, write_run_manifests(*sink, o.dest, run));
  }
  summary.destination = o.dest.describe(o.dest.key(run.run_id));
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();  // manifests written too
  return summary;
}

}  // namespace ddb2s3

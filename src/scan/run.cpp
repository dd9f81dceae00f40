// The run of a scan: options checked, table and destination checked, segment workers started, and the
// data files' manifests (or the segment manifest of a shared scan) written at the end.
#include <algorithm>
#include <random>
#include <thread>

#include "aws/credentials.h"
#include "base/time.h"
#include "scan/checkpoint.h"
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
  if (o.resume && o.run_id.empty())
    return usage("resume needs run_id: the id of the run to continue (as its destination folder names it)",
                 "run_id");
  if (!o.run_id.empty() && !valid_run_id(o.run_id))
    return usage("run_id '" + o.run_id + "' may only hold letters, digits, '-', '_' and '.' (at most 128)",
                 "run_id");
  if (o.file_size == 0) return usage("file_size must be at least 1 byte", "file_size");
  if (!(o.checkpoint_interval >= 0 && o.checkpoint_interval <= 86400))
    return usage("checkpoint_interval must be from 0 to 86400 seconds", "checkpoint_interval");
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

double seconds_since(const std::string& iso_start, Clock::time_point now, Clock::time_point fallback) {
  auto t = parse_iso8601(iso_start);
  Clock::time_point start = t ? to_system_clock(t->seconds, t->fraction) : fallback;
  return std::max(0.0, std::chrono::duration<double>(now - start).count());
}

// With resume, before anything is read: the run (or this process's one segment) is complete already when
// its manifest-summary.json (or segments/I.json) exists. Then a summary of it, else nullopt.
Result<std::optional<ScanSummary>> already_complete(Sink& sink, const ScanOptions& o) {
  ScanSummary summary;
  summary.already_complete = true;
  summary.destination = o.dest.describe(o.dest.key(o.run_id));
  if (o.segment) {
    std::string key = o.dest.key(o.run_id + "/" + segment_manifest_name(*o.segment));
    DDB2S3_ASSIGN_OR_RETURN(auto text, sink.get(key));
    if (!text) return std::optional<ScanSummary>{};
    DDB2S3_ASSIGN_OR_RETURN(summary.run, parse_segment_manifest(*text, sink.describe(key)));
    summary.segment_manifest_key = std::move(key);
    return std::optional<ScanSummary>(std::move(summary));
  }
  DDB2S3_ASSIGN_OR_RETURN(auto text, finished_run_summary(sink, o.dest, o.run_id));
  if (!text) return std::optional<ScanSummary>{};
  summary.summary_key = o.dest.key(o.run_id + "/" + std::string(kManifestSummary));
  DDB2S3_ASSIGN_OR_RETURN(summary.run, completed_run(*text, sink.describe(summary.summary_key)));
  RunRecord& run = summary.run;
  if (auto end = parse_iso8601(run.end_time)) {
    const auto at = to_system_clock(end->seconds, end->fraction);
    run.seconds = seconds_since(run.start_time, at, at);
  }
  return std::optional<ScanSummary>(std::move(summary));
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
  if (o.segment_auto) {
    if (o.segment)
      return Error::usage("segment is given twice: as " + std::to_string(*o.segment) + " and as 'auto'")
          .with_field("segment");
    DDB2S3_ASSIGN_OR_RETURN(o.segment, segment_from_scheduler(o.env, o.total_segments));
    o.segment_auto = false;
  }
  DDB2S3_RETURN_IF_ERROR(validate(o));
  DDB2S3_RETURN_IF_ERROR(Compressor::make(o.compression, o.compression_level));
  // A fresh run id has no earlier attempt: nothing to list or remove (and no s3:ListBucket needed).
  const bool fresh_run = o.run_id.empty();
  if (fresh_run) o.run_id = make_run_id();
  const auto started = Clock::now();
  // Errors about a side's region or endpoint name it as its member: source.endpoint_url, dest_aws.region.
  if (o.source.name.empty()) o.source.name = "source";
  if (o.dest_aws.name.empty()) o.dest_aws.name = "dest_aws";
  // Explicit keys: checked for both sides now (the destination's chain is made after DescribeTable).
  DDB2S3_RETURN_IF_ERROR(check_explicit_keys(o.source));
  DDB2S3_RETURN_IF_ERROR(check_explicit_keys(o.dest_aws));
  // A cancel also cuts short the waits of both sides' retries (back-off, throttle pause).
  if (o.session.cancel == nullptr) o.session.cancel = o.cancel;

  const std::string start_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(started));

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
  const SinkOptions sink_opts = sink_options(o, std::move(s3));

  // Resuming, the destination is read first: a complete run is left alone without a call to DynamoDB, and
  // options that differ from the checkpoints' are a usage error before any.
  std::unique_ptr<Sink> sink;
  std::unique_ptr<Checkpoints> checkpoints;
  if (o.resume) {
    DDB2S3_ASSIGN_OR_RETURN(sink, open_checked_sink(sink_opts));
    DDB2S3_ASSIGN_OR_RETURN(auto done, already_complete(*sink, o));
    if (done) return std::move(*done);
    DDB2S3_ASSIGN_OR_RETURN(checkpoints, Checkpoints::open(*sink, o, segments, start_time));
  }

  DDB2S3_ASSIGN_OR_RETURN(auto source, make_service_config("dynamodb", o.source, o.env, o.session));
  // Up front, before any data moves: the table exists and may be read, the bucket may be written.
  DynamoDbClient ddb(source);
  DDB2S3_ASSIGN_OR_RETURN(auto table, ddb.describe_table(o.table));
  DDB2S3_ASSIGN_OR_RETURN(auto read_limit, read_rate_limit(o, table));
  if (!sink) {
    DDB2S3_ASSIGN_OR_RETURN(sink, open_run_sink(sink_opts, o.run_id));
    if (fresh_run) {
      checkpoints = std::make_unique<Checkpoints>(*sink, o, output_options_json(o), start_time);
    } else {
      DDB2S3_ASSIGN_OR_RETURN(checkpoints, Checkpoints::open(*sink, o, segments, start_time));
    }
  }

  if (o.progress != nullptr) {
    o.progress->segments_total = static_cast<int>(segments.size());
    o.progress->table_item_count = table.item_count;
  }
  RunContext ctx{o, source, *sink, o.run_id + "/"};
  ctx.checkpoints = checkpoints.get();
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
  run.start_time = checkpoints->start_time();  // a resumed run started with its first attempt
  const auto scanned = Clock::now();
  run.end_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(scanned));
  run.seconds = seconds_since(run.start_time, scanned, started);  // as the segment manifest says

  // data/ holds exactly the manifest's files: what a killed or retried attempt wrote past its checkpoint
  // goes (one segment of a shared scan: its own files only; finalize sweeps the rest).
  const std::string data_prefix =
      o.segment ? segment_data_prefix(*o.segment, o.total_segments) : std::string("data/");
  if (!fresh_run) DDB2S3_RETURN_IF_ERROR(remove_orphans(*sink, o.dest, o.run_id, data_prefix, run.files));

  if (o.segment) {
    run.segment = *o.segment;
    std::string key = o.dest.key(o.run_id + "/" + segment_manifest_name(*o.segment));
    DDB2S3_RETURN_IF_ERROR(sink->put(key, segment_manifest_json(run), "application/json"));
    summary.segment_manifest_key = key;
  } else {
    DDB2S3_ASSIGN_OR_RETURN(summary.summary_key, write_run_manifests(*sink, o.dest, run));
  }
  summary.destination = o.dest.describe(o.dest.key(run.run_id));
  run.seconds = seconds_since(run.start_time, Clock::now(), started);  // manifests written too
  return summary;
}

}  // namespace ddb2s3

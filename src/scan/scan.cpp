// Scan mode: segment workers (fetch pages -> transcode -> compress -> roll objects -> sink) and the
// run around them (checks up front, manifests at the end, clean failure).
#include "scan/scan.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "base/json_writer.h"
#include "base/time.h"
#include "scan/bounded_queue.h"
#include "scan/manifest.h"

namespace ddb2s3 {
namespace {

using Clock = std::chrono::system_clock;

struct SegmentResult {
  int segment = 0;
  std::vector<DataFile> files;
  uint64_t items = 0, scanned = 0, scan_bytes = 0, stored_bytes = 0, pages = 0;
};

// Shared by the workers of one run.
struct RunContext {
  const ScanOptions& options;
  std::shared_ptr<const ServiceConfig> source;
  Sink& sink;
  std::string run_prefix;  // RUN_ID/
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> first_error;
  std::vector<SegmentResult> results;

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

Error cancelled_error() { return Error::make(ErrorKind::kCancelled, "Cancelled", "the run was cancelled"); }

// Data files of one segment: a new object starts at the first page end at or past --file-size.
class ObjectRoller {
 public:
  ObjectRoller(RunContext& ctx, int segment, Compressor& compressor, SegmentResult& result)
      : ctx_(ctx), segment_(segment), compressor_(compressor), result_(result) {}

  Status add_page(std::string_view lines, uint64_t items) {
    if (items == 0 && lines.empty()) return {};
    if (!writer_) {
      if (auto s = open(); !s) return s;
    }
    std::string_view out = lines;  // uncompressed: written as they are, not copied through the compressor
    if (compressor_.compression() != Compression::kNone) {
      buf_.clear();
      if (auto s = compressor_.add_page(lines, buf_); !s) return s;
      out = buf_;
    }
    if (auto s = writer_->write(out); !s) return s;
    size_ += out.size();
    items_ += items;
    if (size_ >= ctx_.options.file_size) return close();
    return {};
  }

  Status finish() { return writer_ ? close() : Status{}; }

 private:
  Status open() {
    key_ = ctx_.options.dest.key(ctx_.run_prefix + data_file_name(segment_, ctx_.options.total_segments,
                                                                  next_index_++, compressor_.compression()));
    DDB2S3_ASSIGN_OR_RETURN(auto writer, ctx_.sink.open(key_));
    writer_ = std::move(writer);
    compressor_.start_object();
    size_ = 0;
    items_ = 0;
    return {};
  }

  Status close() {
    buf_.clear();
    if (auto s = compressor_.finish_object(buf_); !s) return s;
    if (auto s = writer_->write(buf_); !s) return s;
    size_ += buf_.size();
    auto stored = writer_->finish();
    writer_.reset();
    if (!stored) return std::move(stored).error();
    DataFile f{stored->key, items_, stored->size, stored->md5_base64, stored->etag, segment_};
    result_.stored_bytes += f.size;
    ctx_.count(&ScanProgress::stored_bytes, f.size);
    ctx_.count(&ScanProgress::files, 1);
    result_.files.push_back(std::move(f));
    return {};
  }

  RunContext& ctx_;
  int segment_;
  Compressor& compressor_;
  SegmentResult& result_;
  std::unique_ptr<ObjectWriter> writer_;  // destroyed unfinished on failure: the upload is aborted
  std::string key_;
  std::string buf_;
  uint64_t size_ = 0, items_ = 0;
  int next_index_ = 0;
};

uint64_t count_lines(std::string_view s) {
  return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

// One segment: a fetcher thread keeps the next Scan page coming while this thread transcodes,
// compresses and writes the previous one (at most one page waits between them: each is ~1 MB per segment).
Status run_segment(RunContext& ctx, int segment, PageTranscoder& transcoder, Compressor& compressor,
                   SegmentResult& result) {
  const ScanOptions& o = ctx.options;
  BoundedQueue<ScanPage> pages(1);
  // Pages held at once: one being processed and one fetched ahead (a Scan page is up to ~1 MB, and
  // fetching further ahead only adds memory: the next fetch starts as soon as a page is taken).
  constexpr int kPagesHeld = 2;
  std::mutex spare_mu;
  std::condition_variable page_done;
  int held = 0;                    // pages fetched (or being fetched) and not yet processed
  bool done = false;               // the processing side has stopped
  std::vector<std::string> spare;  // emptied page buffers going back to the fetcher for reuse
  std::optional<Error> fetch_error;

  std::thread fetcher([&] {
    DynamoDbClient ddb(ctx.source);
    ScanRequest request = o.request;
    request.table_name = o.table;
    if (o.total_segments > 1) {
      request.segment = segment;
      request.total_segments = o.total_segments;
    }
    while (!ctx.stopping()) {
      {
        std::unique_lock lock(spare_mu);
        page_done.wait(lock, [&] { return held < kPagesHeld || done; });
        if (done) break;
        ++held;
        if (!spare.empty()) {
          ddb.recycle(std::move(spare.back()));
          spare.pop_back();
        }
      }
      auto page = ddb.scan(request);
      if (!page) {
        fetch_error = std::move(page).error();
        break;
      }
      std::string next = page->last_evaluated_key_json;
      if (!pages.push(std::move(*page))) break;
      if (next.empty()) break;
      request.exclusive_start_key_json = std::move(next);
    }
    pages.close();
  });

  std::string lines;
  ObjectRoller roller(ctx, segment, compressor, result);
  Status status;
  while (auto page = pages.pop()) {
    if (ctx.stopping()) break;
    lines.clear();
    auto info = transcoder.transcode(page->body, lines);
    if (!info) {
      Error e = std::move(info).error();
      e.operation = "Scan";
      e.resource = "table '" + o.table + "' segment " + std::to_string(segment);
      status = std::move(e);
      break;
    }
    uint64_t items = o.item_callback ? count_lines(lines) : info->items;
    result.items += items;
    result.scanned += static_cast<uint64_t>(page->scanned_count);
    result.scan_bytes += page->body.size();
    result.pages += 1;
    ctx.count(&ScanProgress::items, items);
    ctx.count(&ScanProgress::scanned, static_cast<uint64_t>(page->scanned_count));
    ctx.count(&ScanProgress::scan_bytes, page->body.size());
    ctx.count(&ScanProgress::pages, 1);
    if (status = roller.add_page(lines, items); !status) break;
    {
      std::lock_guard lock(spare_mu);
      if (spare.empty()) spare.push_back(std::move(page->body));
      --held;
    }
    page_done.notify_one();
  }
  {
    std::lock_guard lock(spare_mu);
    done = true;
  }
  page_done.notify_one();
  pages.close();  // unblocks the fetcher if this side stopped first
  fetcher.join();
  if (!status) return status;
  if (fetch_error) return std::move(*fetch_error);
  if (ctx.stopping()) return cancelled_error();
  return roller.finish();
}

// Workers take segments from a shared counter; each owns its transcoder and compressor.
void run_worker(RunContext& ctx, std::atomic<int>& next, const std::vector<int>& segments) {
  PageTranscoder transcoder(ctx.options.format);
  if (ctx.options.item_callback) transcoder.set_item_callback(ctx.options.item_callback);
  auto compressor = Compressor::make(ctx.options.compression, ctx.options.compression_level);
  if (!compressor) return ctx.fail(std::move(compressor).error());
  while (!ctx.stopping()) {
    int i = next.fetch_add(1);
    if (i >= static_cast<int>(segments.size())) return;
    SegmentResult result;
    result.segment = segments[i];
    Status s = run_segment(ctx, segments[i], transcoder, **compressor, result);
    if (!s) return ctx.fail(std::move(s).error());
    if (ctx.options.progress != nullptr) ctx.options.progress->segments_done.fetch_add(1);
    std::lock_guard lock(ctx.mu);
    ctx.results.push_back(std::move(result));
  }
}

bool valid_run_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Options are named as the members of ScanOptions (field), so that a caller can say them its way.
Status validate(const ScanOptions& o) {
  auto usage = [](std::string message, const char* field) {
    return Error::usage(std::move(message)).with_field(field);
  };
  if (o.table.empty()) return usage("no table given", "table");
  if (o.total_segments < 1 || o.total_segments > 1000000)
    return usage("total_segments must be from 1 to 1000000 (DynamoDB's limit), not " +
                     std::to_string(o.total_segments),
                 "total_segments");
  if (o.segment) {
    if (*o.segment < 0 || *o.segment >= o.total_segments)
      return usage("segment must be from 0 to total_segments - 1 (" + std::to_string(o.total_segments - 1) +
                       "), not " + std::to_string(*o.segment),
                   "segment");
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

Result<std::unique_ptr<Sink>> open_sink(const Destination& dest, const AwsOptions& aws,
                                        const ObjectOptions& object_options,
                                        const std::string& expected_owner, uint64_t part_size, int max_parts,
                                        int upload_threads, const Environment& env,
                                        const SessionOptions& session) {
  if (!dest.is_s3) return make_directory_sink(dest);
  DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("s3", aws, env, session));
  S3SinkOptions so;
  so.object_options = object_options;
  so.expected_bucket_owner = expected_owner;
  so.part_size = part_size;
  so.max_parts_in_flight = max_parts;
  so.upload_threads = upload_threads;
  return make_s3_sink(config, dest, so);
}

Status write_run_manifests(Sink& sink, const Destination& dest, RunRecord& run, ScanSummary& summary) {
  std::string prefix = run.run_id + "/";
  std::string files_key = dest.key(prefix + std::string(kManifestFiles));
  DDB2S3_RETURN_IF_ERROR(sink.put(files_key, manifest_files_json(run.files), "application/json"));
  std::string summary_key = dest.key(prefix + std::string(kManifestSummary));
  DDB2S3_RETURN_IF_ERROR(sink.put(summary_key, manifest_summary_json(run, files_key), "application/json"));
  summary.summary_key = summary_key;
  return {};
}

void fill_summary(ScanSummary& s, const RunRecord& run, const Destination& dest) {
  s.run_id = run.run_id;
  s.table = run.table;
  s.table_arn = run.table_arn;
  s.destination = dest.describe(dest.key(run.run_id));
  s.start_time = run.start_time;
  s.end_time = run.end_time;
  s.item_count = run.item_count;
  s.scanned_count = run.scanned_count;
  s.total_segments = run.total_segments;
  s.files = run.files;
  for (const auto& f : run.files) s.stored_bytes += f.size;
}

Status refuse_finished_run(Sink& sink, const Destination& dest, const std::string& run_id) {
  std::string key = dest.key(run_id + "/" + std::string(kManifestSummary));
  DDB2S3_ASSIGN_OR_RETURN(auto existing, sink.get(key));
  if (existing.has_value()) {
    // Not a usage error: it is found by reading the destination, and exit 2 promises no AWS call was made.
    Error e = Error::make(ErrorKind::kClient, "RunAlreadyComplete",
                          "run '" + run_id + "' is already complete: '" + sink.describe(key) + "' exists");
    e.hint = "choose another run_id (or none, for a fresh one)";
    e.field = "run_id";
    return e;
  }
  return {};
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
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_sink(o.dest, o.dest_aws, o.object_options, o.expected_bucket_owner,
                                               part_size, max_parts, upload_threads, o.env, o.session));
  DDB2S3_RETURN_IF_ERROR(sink->check());
  DDB2S3_RETURN_IF_ERROR(refuse_finished_run(*sink, o.dest, o.run_id));

  if (o.progress != nullptr) {
    o.progress->segments_total = static_cast<int>(segments.size());
    o.progress->table_item_count = table.item_count;
  }
  RunContext ctx{o, source, *sink, o.run_id + "/"};
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
  RunRecord run = base_record(o, o.run_id, table.table_arn);
  ScanSummary summary;
  for (auto& r : ctx.results) {
    run.item_count += r.items;
    run.scanned_count += r.scanned;
    summary.scan_bytes += r.scan_bytes;
    summary.pages += r.pages;
    for (auto& f : r.files) run.files.push_back(std::move(f));
  }
  run.start_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(started));
  run.end_time = format_iso8601(std::chrono::floor<std::chrono::milliseconds>(Clock::now()));

  if (o.segment) {
    run.segment = *o.segment;
    std::string key = o.dest.key(o.run_id + "/" + segment_manifest_name(*o.segment));
    DDB2S3_RETURN_IF_ERROR(sink->put(key, segment_manifest_json(run), "application/json"));
    summary.segment_manifest_key = key;
    summary.segment = o.segment;
  } else {
    DDB2S3_RETURN_IF_ERROR(write_run_manifests(*sink, o.dest, run, summary));
  }
  fill_summary(summary, run, o.dest);
  summary.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return summary;
}

Result<ScanSummary> finalize_run(FinalizeOptions o) {
  if (!valid_run_id(o.run_id))
    return Error::usage(
               "finalizing needs the run_id that the segments were run with (letters, digits, '-', '_', '.')")
        .with_field("run_id");
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_sink(o.dest, o.dest_aws, o.object_options, o.expected_bucket_owner,
                                               8ull << 20, 2, 1, o.env, o.session));
  DDB2S3_RETURN_IF_ERROR(sink->check());
  DDB2S3_RETURN_IF_ERROR(refuse_finished_run(*sink, o.dest, o.run_id));

  std::string seg_prefix = o.dest.key(o.run_id + "/segments/");
  DDB2S3_ASSIGN_OR_RETURN(auto keys, sink->list(seg_prefix));
  std::vector<RunRecord> parts;
  for (const auto& key : keys) {
    if (!key.ends_with(".json")) continue;
    DDB2S3_ASSIGN_OR_RETURN(auto text, sink->get(key));
    if (!text.has_value()) continue;
    DDB2S3_ASSIGN_OR_RETURN(auto rec, parse_segment_manifest(*text, sink->describe(key)));
    parts.push_back(std::move(rec));
  }
  if (parts.empty()) {
    Error e = Error::make(ErrorKind::kClient, "NoSegments",
                          "run '" + o.run_id + "' has no manifests of its segments under '" +
                              sink->describe(seg_prefix) + "'");
    e.hint = "check the destination and run_id: the process that scans segment I with run_id '" + o.run_id +
             "' writes segments/I.json when it finishes";
    e.field = "run_id";
    return e;
  }
  const int total = parts.front().total_segments;
  std::vector<const RunRecord*> by_segment(total, nullptr);
  for (const auto& p : parts) {
    if (p.total_segments != total || p.run_id != o.run_id || p.table != parts.front().table ||
        p.format != parts.front().format || p.compression != parts.front().compression) {
      Error e = Error::make(ErrorKind::kClient, "InconsistentSegments",
                            "segments/" + std::to_string(p.segment) + ".json and segments/" +
                                std::to_string(parts.front().segment) + ".json of run '" + o.run_id +
                                "' disagree on the table, total_segments, format or compression");
      e.hint = "every process of one run must use the same table, total_segments, format and compression";
      e.field = "total_segments";
      return e;
    }
    by_segment[p.segment] = &p;
  }
  std::vector<std::string> missing;
  for (int i = 0; i < total; ++i)
    if (by_segment[i] == nullptr) missing.push_back(std::to_string(i));
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 50; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 50) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    Error e = Error::make(ErrorKind::kClient, "MissingSegments",
                          "run '" + o.run_id + "' is missing " + std::to_string(missing.size()) + " of " +
                              std::to_string(total) + " segments: " + list);
    e.hint = "run those segments (segment I, total_segments " + std::to_string(total) + ", run_id '" +
             o.run_id + "'), then finalize again";
    e.field = "segment";
    return e;
  }
  RunRecord run = *by_segment[0];
  run.segment = -1;
  run.files.clear();
  run.item_count = run.scanned_count = 0;
  for (const RunRecord* p : by_segment) {
    run.item_count += p->item_count;
    run.scanned_count += p->scanned_count;
    run.start_time = std::min(run.start_time, p->start_time);
    run.end_time = std::max(run.end_time, p->end_time);
    run.files.insert(run.files.end(), p->files.begin(), p->files.end());
  }
  ScanSummary summary;
  DDB2S3_RETURN_IF_ERROR(write_run_manifests(*sink, o.dest, run, summary));
  fill_summary(summary, run, o.dest);
  return summary;
}

std::string ScanSummary::to_json() const {
  std::string out;
  JsonObjectWriter w(out);
  w.string("runId", run_id);
  w.string("table", table);
  w.string("tableArn", table_arn);
  w.string("destination", destination);
  w.string_if_set("manifestSummaryKey", summary_key);
  w.string_if_set("segmentManifestKey", segment_manifest_key);
  w.string("startTime", start_time);
  w.string("endTime", end_time);
  w.number("seconds", seconds);
  w.number("itemCount", item_count);
  w.number("scannedCount", scanned_count);
  w.number("scanBytes", scan_bytes);
  w.number("storedBytes", stored_bytes);
  w.number("pages", pages);
  w.number("fileCount", files.size());
  w.number("totalSegments", total_segments);
  if (segment) w.number("segment", *segment);
  w.array("files", files, [](std::string& o, const DataFile& f) {
    JsonObjectWriter file(o);
    file.string("key", f.key);
    file.number("itemCount", f.item_count);
    file.number("size", f.size);
    file.string("md5Checksum", f.md5_base64);
    file.string("etag", f.etag);
    file.close();
  });
  w.close();
  return out;
}

}  // namespace ddb2s3

// Finalizing a scan that many processes shared: read every segment manifest, check that all segments
// are there and agree, and write the run's manifests.
#include <algorithm>
#include <optional>

#include "base/time.h"
#include "scan/checkpoint.h"
#include "scan/manifest.h"
#include "scan/run_output.h"
#include "scan/scan.h"

namespace ddb2s3 {
namespace {

// The S3 sink of finalize: manifests only, so no multipart upload ever starts (a manifest is kilobytes,
// far below a part) and one uploader thread is plenty; the part size is the sink's default.
constexpr uint64_t kFinalizePartSize = 8ull << 20;
constexpr int kFinalizePartsInFlight = 2;
constexpr int kFinalizeUploadThreads = 1;

std::optional<double> wall_seconds(const std::string& start, const std::string& end) {
  auto a = parse_iso8601(start);
  auto b = parse_iso8601(end);
  if (!a || !b) return std::nullopt;
  auto d = (b->seconds - a->seconds) + (b->fraction - a->fraction);
  return std::max(0.0, std::chrono::duration<double>(d).count());
}

}  // namespace

Result<ScanSummary> finalize_run(FinalizeOptions o) {
  if (!valid_run_id(o.run_id))
    return Error::usage(
               "finalizing needs the run_id that the segments were run with (letters, digits, '-', '_', '.')")
        .with_field("run_id");
  if (o.dest_aws.name.empty()) o.dest_aws.name = "dest_aws";  // errors name dest_aws.endpoint_url...
  if (o.session.cancel == nullptr) o.session.cancel = o.cancel;  // Ctrl-C cuts retry waits short
  S3SinkOptions s3;
  s3.part_size = kFinalizePartSize;
  s3.max_parts_in_flight = kFinalizePartsInFlight;
  s3.upload_threads = kFinalizeUploadThreads;
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_run_sink(sink_options(o, std::move(s3)), o.run_id));

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
  run.item_count = run.scanned_count = run.scan_bytes = run.pages = run.throttles = 0;
  run.consumed_rcu = 0;
  double longest = 0;
  for (const RunRecord* p : by_segment) {
    run.item_count += p->item_count;
    run.scanned_count += p->scanned_count;
    run.scan_bytes += p->scan_bytes;
    run.pages += p->pages;
    run.consumed_rcu += p->consumed_rcu;
    run.throttles += p->throttles;
    longest = std::max(longest, p->seconds);
    run.start_time = std::min(run.start_time, p->start_time);
    run.end_time = std::max(run.end_time, p->end_time);
    run.files.insert(run.files.end(), p->files.begin(), p->files.end());
  }
  // A shared scan took as long as a user waited for it: from the first segment's start to the last one's
  // end (segments run at once; their sum would be CPU-like time). Unreadable times: the longest segment.
  run.seconds = wall_seconds(run.start_time, run.end_time).value_or(longest);
  // data/ holds exactly the manifest's files: anything no segment manifest lists (a killed or retried
  // process's leftovers) goes before the manifests are written.
  DDB2S3_RETURN_IF_ERROR(remove_orphans(*sink, o.dest, o.run_id, "data/", run.files));
  ScanSummary summary;
  DDB2S3_ASSIGN_OR_RETURN(summary.summary_key, write_run_manifests(*sink, o.dest, run));
  summary.destination = o.dest.describe(o.dest.key(run.run_id));
  summary.run = std::move(run);
  return summary;
}

}  // namespace ddb2s3

// The summary of a run (ScanSummary) as the one JSON object that `--json` prints.
#include "report/summary.h"

#include "base/json_writer.h"

namespace ddb2s3 {

std::string summary_json(const ScanSummary& s) {
  const RunRecord& run = s.run;
  std::string out;
  JsonObjectWriter w(out);
  w.string("runId", run.run_id);
  w.string("table", run.table);
  w.string("tableArn", run.table_arn);
  w.string("destination", s.destination);
  w.string_if_set("manifestSummaryKey", s.summary_key);
  w.string_if_set("segmentManifestKey", s.segment_manifest_key);
  if (s.already_complete) w.raw("alreadyComplete", "true");  // resume found it done: nothing was read
  w.string("startTime", run.start_time);
  w.string("endTime", run.end_time);
  w.number("seconds", run.seconds);
  w.number("itemCount", run.item_count);
  w.number("scannedCount", run.scanned_count);
  w.number("scanBytes", run.scan_bytes);
  w.number("storedBytes", run.stored_bytes());
  w.number("pages", run.pages);
  w.number("consumedReadCapacityUnits", run.consumed_rcu);
  w.number("throttles", run.throttles);
  if (s.read_limit) {
    const ReadRateLimit& l = *s.read_limit;
    w.key("readRateLimit");
    JsonObjectWriter limit(out);
    limit.number("rcuPerSecond", l.rcu_per_second);
    limit.number("scanRcuPerSecond", l.scan_rcu_per_second);
    if (l.max_rcu) limit.number("maxRcu", *l.max_rcu);
    if (l.read_capacity_percent) {
      limit.number("readCapacityPercent", *l.read_capacity_percent);
      limit.string("base", l.base);
      limit.number("baseUnits", l.base_units);
    }
    limit.close();
  }
  w.number("fileCount", run.files.size());
  w.number("totalSegments", run.total_segments);
  if (run.segment >= 0) w.number("segment", run.segment);
  w.array("files", run.files, [](std::string& o, const DataFile& f) {
    JsonObjectWriter file(o);
    file.string("key", f.object.key);
    file.number("itemCount", f.item_count);
    file.number("size", f.object.size);
    file.string("md5Checksum", f.object.md5_base64);
    file.string("etag", f.object.etag);
    file.close();
  });
  w.close();
  return out;
}

}  // namespace ddb2s3

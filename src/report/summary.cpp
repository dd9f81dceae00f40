// The summary of a run (ScanSummary) as the one JSON object that `--json` prints.
#include "report/summary.h"

#include "base/json_writer.h"

namespace ddb2s3 {

std::string summary_json(const ScanSummary& s) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("runId", s.run_id);
  w.string("table", s.table);
  w.string("tableArn", s.table_arn);
  w.string("destination", s.destination);
  w.string_if_set("manifestSummaryKey", s.summary_key);
  w.string_if_set("segmentManifestKey", s.segment_manifest_key);
  w.string("startTime", s.start_time);
  w.string("endTime", s.end_time);
  w.number("seconds", s.seconds);
  w.number("itemCount", s.item_count);
  w.number("scannedCount", s.scanned_count);
  w.number("scanBytes", s.scan_bytes);
  w.number("storedBytes", s.stored_bytes);
  w.number("pages", s.pages);
  w.number("fileCount", s.files.size());
  w.number("totalSegments", s.total_segments);
  if (s.segment) w.number("segment", *s.segment);
  w.array("files", s.files, [](std::string& o, const DataFile& f) {
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

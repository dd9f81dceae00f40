// The run's manifests, in the shape of DynamoDB's native export: manifest-files.json (one line per
// data file) and manifest-summary.json (written last: its presence means the run is complete); and
// the per-segment manifest (segments/I.json) of a scan shared by many processes; and the records they
// are written from (DataFile, RunRecord).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "scan/compress.h"
#include "scan/transcode.h"
#include "sink/sink.h"

namespace ddb2s3 {

// One data file as the manifests record it: the object as stored, and what it holds.
struct DataFile {
  StoredObject object;  // key (with prefix, or relative to the destination directory), size, MD5, ETag
  uint64_t item_count = 0;
  int segment = 0;
};

// What a run (or one segment of it) wrote and how.
struct RunRecord {
  std::string run_id;
  std::string table;
  std::string table_arn;
  std::string start_time, end_time;  // ISO 8601 UTC with milliseconds
  std::string bucket;                // empty for a local directory
  std::string prefix;                // S3 prefix, or the local directory
  std::string sse_algorithm, sse_kms_key_id;
  OutputFormat format = OutputFormat::kJsonl;
  Compression compression = Compression::kGzip;
  int total_segments = 1;
  int segment = -1;  // segment manifests only
  uint64_t item_count = 0;
  uint64_t scanned_count = 0;
  // What the scan read and for how long: segment manifests record them (so that finalize can sum them);
  // manifest-summary.json, in the native export's shape, does not.
  uint64_t scan_bytes = 0;  // bytes of Scan responses
  uint64_t pages = 0;       // Scan pages
  double seconds = 0;       // wall time
  // Read capacity units consumed (every page's ConsumedCapacity): in both manifests, as
  // consumedReadCapacityUnits. Throttled requests met: segment manifests only (finalize sums both).
  double consumed_rcu = 0;
  uint64_t throttles = 0;
  std::vector<DataFile> files;
  std::string scan_json = "{}";  // the Scan parameters, a JSON object

  uint64_t stored_bytes() const;  // the data files' sizes, summed
};

std::string_view output_format_name(OutputFormat format);  // "JSONL", "DYNAMODB_JSON"

// Relative keys under PREFIX/RUN_ID/.
std::string data_file_name(int segment, int total_segments, int index, Compression compression);
inline constexpr std::string_view kManifestFiles = "manifest-files.json";
inline constexpr std::string_view kManifestSummary = "manifest-summary.json";
std::string segment_manifest_name(int segment);  // segments/I.json

// One data file as a JSON object: {"itemCount":N,"md5Checksum":"..","etag":"..","dataFileS3Key":"..","size":N}
// and, with_segment (segment manifests, checkpoints), "segment":I.
void append_data_file_json(std::string& out, const DataFile& f, bool with_segment);

// One line per data file: {"itemCount":N,"md5Checksum":"..","etag":"..","dataFileS3Key":"..","size":N}
// (size, the stored bytes, is ours; the native export's lines end at dataFileS3Key).
std::string manifest_files_json(const std::vector<DataFile>& files);
std::string manifest_summary_json(const RunRecord& run, std::string_view manifest_files_key);
std::string segment_manifest_json(const RunRecord& run);
Result<RunRecord> parse_segment_manifest(std::string_view json, std::string_view key);

// manifest-summary.json read back: the run's record (files empty) and what only the summary says.
struct RunSummary {
  RunRecord run;
  uint64_t file_count = 0;
  std::string manifest_files_key;
};
// Strict: every field that verifying needs (runId, itemCount, fileCount, outputFormat, compression,
// manifestFilesS3Key) is there with its type and a known value; fields of later versions are ignored. The
// Error names key and the field.
Result<RunSummary> parse_manifest_summary(std::string_view json, std::string_view key);

// One line of manifest-files.json read back.
struct ManifestEntry {
  DataFile file;               // segment 0: the line does not say
  bool size_recorded = false;  // lines of versions before `size` have none
  size_t line = 0;             // 1-based
};
// Strict: every line a JSON object with itemCount (a number), md5Checksum, etag and dataFileS3Key (non-empty
// strings); the Error names key and the line.
Result<std::vector<ManifestEntry>> parse_manifest_files(std::string_view text, std::string_view key);

}  // namespace ddb2s3

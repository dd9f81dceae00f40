// Internal to scan/: resuming a run after a crash. Each segment's checkpoint (PREFIX/RUN/checkpoints/
// segment-I.json: where its scan goes on from, the data files it has finished, its counts and the options
// that shape the output), and the removal of data files that no manifest lists (what a killed or retried
// attempt left behind), so that data/ holds exactly the files of manifest-files.json.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scan/segment.h"

namespace ddb2s3 {

// One segment's checkpoint, written whenever one of its data files is complete and when it ends.
struct Checkpoint {
  SegmentResult done;               // the segment, its finished data files and its counts so far
  std::string exclusive_start_key;  // where the Scan goes on: the LastEvaluatedKey of done's last page
  int next_file_index = 0;          // the index of the segment's next data file (names stay deterministic)
  bool finished = false;            // the segment has read its last page and closed its last file
  std::string start_time;           // when the run first started (ISO 8601 UTC)
};

std::string checkpoint_name(int segment);  // checkpoints/segment-I.json

// The options that shape the output, as canonical JSON (fixed order; the Scan fields as the Scan request
// writes them, without the run's Segment/TotalSegments and ReturnConsumedCapacity): keys are ScanOptions
// members (table, format, compression, compression_level, file_size, total_segments) and "scan".
std::string output_options_json(const ScanOptions& o);

// Where a segment stands after its last finished data file: what a checkpoint records beside the files.
struct SegmentPosition {
  uint64_t items = 0, scanned = 0, scan_bytes = 0, pages = 0;
  double consumed_rcu = 0;  // the pages' ConsumedCapacity so far
  size_t files = 0;  // the first `files` of the segment's data files are finished
  int next_file_index = 0;
  std::string exclusive_start_key;  // the LastEvaluatedKey of the last page in those files
  bool finished = false;            // no page is left
};

// The checkpoints of one run (or one segment of a shared scan) in this process. Thread-safe: record() writes
// a segment's own object, and nothing else changes after open().
class Checkpoints {
 public:
  // With o.resume: reads the checkpoints of `segments`; one whose options differ from o's is a usage error
  // naming the option (as its ScanOptions member or Scan field). Without: removes stale ones of `segments`,
  // so that a later resume never mixes attempts. start_time: this attempt's start.
  static Result<std::unique_ptr<Checkpoints>> open(Sink& sink, const ScanOptions& o,
                                                   const std::vector<int>& segments, std::string start_time);

  const Checkpoint* find(int segment) const;  // null: the segment starts from its beginning
  // The run's start: the earliest of the checkpoints read, else this attempt's.
  const std::string& start_time() const { return start_time_; }
  // Writes the segment's checkpoint: the first at.files of files, and the position (nothing when
  // o.checkpoints is off).
  Status record(int segment, const std::vector<DataFile>& files, const SegmentPosition& at) const;

  Checkpoints(Sink& sink, const ScanOptions& o, std::string options_json, std::string start_time);

 private:
  Sink& sink_;
  const ScanOptions& options_;
  std::string options_json_, fingerprint_, start_time_;
  std::map<int, Checkpoint> read_;
};

std::string checkpoint_json(const Checkpoint& c, const ScanOptions& o, std::string_view options_json,
                            std::string_view fingerprint);

// Removes what data/ of the run holds beyond `keep`: every finished or half-written object under
// PREFIX/RUN/<name_prefix> (e.g. "data/", or "data/0003-" for one segment) that keep does not list.
Status remove_orphans(Sink& sink, const Destination& dest, const std::string& run_id,
                      std::string_view name_prefix, const std::vector<DataFile>& keep);

// The data files' name prefix of one segment ("data/0003-"), for remove_orphans().
std::string segment_data_prefix(int segment, int total_segments);

// A finished run as its manifest-summary.json tells it (counts, times, table; no file list).
Result<RunRecord> completed_run(std::string_view summary_json, std::string_view key);

}  // namespace ddb2s3

// Merge: a snapshot (a native full export, or a previous merge's output: data/*.json.gz of {"Item":...}
// lines) plus incremental exports, oldest first, become a new snapshot in the native export layout
// (data/*.json.gz, manifest-files.json, manifest-summary.json written last).
//
// For each key the latest change wins (by Metadata.WriteTimestampMicros; on a tie the later export); a
// change without NewImage is a delete. Attribute values are kept as JSON text (compact, members sorted by
// name), never through a double: numbers keep every digit, sets and binary pass unchanged.
//
// Memory and I/O: keys are hashed into `partitions` partitions; one partition at a time, the incremental
// exports are read and that partition's changes are held (latest per key), then the snapshot is streamed
// and its items of that partition are written or replaced. So memory is about one partition's changes
// (changed keys / partitions, their new images) plus a few read buffers, whatever the snapshot's size;
// the price is reading the snapshot and the incremental exports once per partition.
//
// Many machines: each process runs one partition (MergeOptions::partition), reading the snapshot and the
// incremental exports once and writing only its partition's data files and a partition manifest
// (TO/partitions/pPPPP.json); then finalize_merge() checks that all K are there and agree, and writes the
// snapshot's manifests as a single-process merge with the same K would.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/config.h"
#include "aws/environment.h"
#include "aws/session.h"
#include "base/result.h"
#include "sink/sink.h"

namespace ddb2s3 {

struct MergeOptions {
  // Where the snapshot is: s3://BUCKET/PREFIX (or a local directory) holding manifest-files.json, i.e. a
  // native export's PREFIX/AWSDynamoDB/<ExportId> or a previous merge's --to. A location ending in
  // /manifest-summary.json (DescribeExport's ExportManifest) stands for its folder.
  std::string base;
  // The incremental exports' folders, in the same forms, oldest first.
  std::vector<std::string> incrementals;
  // Where the new snapshot goes; it must not hold a manifest-summary.json already.
  std::string to;
  // Key attribute names (e.g. {"pk","sk"}); empty: the names of the incremental records' Keys.
  std::vector<std::string> key_attributes;
  int partitions = 16;  // 1..4096
  // -1: every partition, in this process. 0..partitions-1: only this one (one process of many, all with the
  // same options): its data files data/pPPPP-*.json.gz and TO/partitions/pPPPP.json, no snapshot manifests
  // (finalize_merge() writes them). A partition whose manifest exists is done: the run returns at once. Its
  // own data files without a manifest (an attempt that failed) are removed first.
  int partition = -1;
  uint64_t file_size = 256ull << 20;  // uncompressed bytes of lines per data file before the next one
  uint64_t read_size = 4ull << 20;    // bytes per ranged read of a data file (memory per open file)
  AwsOptions s3;                      // the S3 side (sources and destination)
  Environment env = Environment::process();
  SessionOptions session;
};

struct MergeOutcome {
  int64_t items = 0;           // items in the new snapshot
  int64_t base_items = 0;      // items read from the snapshot
  int64_t change_records = 0;  // records read from the incremental exports
  int64_t changed_keys = 0;    // distinct keys that the records changed
  int64_t deleted_keys = 0;    // of those, keys whose latest change is a delete
  std::vector<StoredObject> files;
  std::string summary_key;  // the new snapshot's manifest-summary.json; empty for a one-partition run
  int partitions = 0;       // K, as given
  int partition = -1;       // the one partition this run merged; -1: all of them (or finalize)
  // A one-partition run: its manifest (TO/partitions/pPPPP.json), and whether it was there already (the
  // partition was done: nothing read or written; the counts are the manifest's).
  std::string partition_manifest_key;
  bool already_done = false;
};

// Usage errors for bad options (field: base, incrementals, to, partitions, partition, file_size, read_size)
// before any I/O.
Result<MergeOutcome> merge_exports(const MergeOptions& options);

// After every partition's run (partition 0..partitions-1) into options.to: checks the K partition manifests
// (all there: else PartitionsMissing naming the missing ones; the same K, base, incrementals, key and inputs:
// else PartitionsDisagree; data/ holding exactly their files: else UnlistedDataFile or MissingDataFile),
// then writes manifest-files.json (partition order) and manifest-summary.json last, as merge_exports() with
// partition -1 does. Reads to, partitions, s3, env, session; base and incrementals when base is given (they
// must be what the partitions merged). A `to` holding a summary already is refused (SnapshotExists).
Result<MergeOutcome> finalize_merge(const MergeOptions& options);

// A DynamoDB JSON value in canonical text: compact, object members sorted by name (recursively), strings
// escaped one way; what keys are compared by. An Error for text that is not one JSON value.
Result<std::string> canonical_dynamodb_json(std::string_view json);

// The partition (0..partitions-1) of a key's canonical text: FNV-1a 64, stable across processes.
int key_partition(std::string_view canonical_key, int partitions);

}  // namespace ddb2s3

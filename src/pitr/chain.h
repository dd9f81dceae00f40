// The incremental chain: a table's base export plus the incremental exports since, recorded in one state
// object under the chain's S3 prefix, and merged on demand into a current snapshot (merge.h) that Athena,
// Glue and ImportTable read as they read a full export.
//
// What the chain keeps under s3://BUCKET/PREFIX/:
//   ddb2s3-chain.json       the state (ChainState as JSON): the base, each incremental export with its window
//                           and ARN, the time the chain covers, the current snapshot. No secrets.
//   ddb2s3-chain.lock       while a run advances the chain: who holds it and until when (a lease)
//   AWSDynamoDB/<ExportId>/ the exports, as DynamoDB writes them
//   snapshots/<TIME>/       merged snapshots (data/, manifest-files.json, manifest-summary.json last)
//
// Two runs at once: a run first creates the lock with S3's conditional write (If-None-Match: *), and every
// change of the state is written with If-Match: the ETag it read. So of two runs one advances the chain and
// the other is refused (ChainBusy, naming the holder); a lease that ran out (its run died) is taken over
// with If-Match on the lock's ETag. A run that fails records nothing for the window it failed on: the next
// run covers that window again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pitr/merge.h"
#include "pitr/pitr.h"

namespace ddb2s3 {

inline constexpr std::string_view kChainStateName = "ddb2s3-chain.json";
inline constexpr std::string_view kChainLockName = "ddb2s3-chain.lock";

// One export of the chain (the base, or an incremental one).
struct ChainExport {
  std::string export_arn;  // empty for an adopted scan
  std::string location;    // s3://BUCKET/KEY-PREFIX of its folder (holding manifest-files.json)
  double from = 0;         // incremental: ExportFromTime
  double to = 0;           // incremental: ExportToTime; base: the time it is as of
  int64_t item_count = 0;  // items (base) or change records (incremental), as the export reported them
  std::string kind;        // base: "export" (made by the chain), "adopted-export" or "adopted-scan"
};

struct ChainSnapshot {
  std::string location;  // s3://... of the current snapshot (at first, the base's folder)
  double through = 0;    // the time it is as of
  int incrementals = 0;  // how many of the chain's incremental exports it includes (the first ones)
  int64_t item_count = 0;
};

struct ChainState {
  int version = 1;
  std::string table;
  std::string table_arn;
  std::vector<std::string> key_attributes;  // the table's key (DescribeTable)
  std::string export_view_type;             // of the incremental exports
  ChainExport base;
  std::vector<ChainExport> incrementals;  // oldest first, consecutive windows
  ChainSnapshot snapshot;
  double updated = 0;

  double through() const { return incrementals.empty() ? base.to : incrementals.back().to; }
};

std::string chain_state_json(const ChainState& state);
// Errors name `where` (the state object's s3:// address).
Result<ChainState> parse_chain_state(std::string_view json, std::string_view where);

// The windows from `from` to `to`: one when to - from <= 24 h, else equal consecutive windows of at most
// 24 h each (never one under 15 minutes); empty when to - from is under 15 minutes.
std::vector<std::pair<double, double>> chain_windows(double from, double to);

// The snapshot folder a merge of the chain through `through` writes: PREFIX/snapshots/YYYYMMDDTHHMMSSZ.
std::string snapshot_folder(std::string_view prefix, double through);

struct ChainRunOptions {
  // What run_export gets for each export: table, source, s3_bucket/s3_prefix (the chain's place), SSE,
  // bucket owner, wait options, on_poll, on_started, cancel, clock, env, session. Its export type and
  // times are set here; export_view_type (default NEW_AND_OLD_IMAGES) applies to the incremental exports.
  ExportOptions exports;
  AwsOptions s3;       // the S3 side: reads and writes the state, the lock and the snapshots
  std::string base;    // first run only: adopt this export or scan run (s3://...) instead of a full export
  bool merge = false;  // after exporting, merge the new incremental exports into a new snapshot
  int partitions = 16;
  uint64_t file_size = 256ull << 20;
  std::string run_id;  // who holds the lock (default: random); shown to a run that finds it held
  // How long the lock is held before another run may take it over: default (0) 15 minutes plus the longest
  // wait of the exports this run may make (check_interval x max_attempts each), renewed before each export.
  double lease_seconds = 0;
};

enum class ChainAction {
  kStartedBase,  // this run made the base (full export)
  kAdoptedBase,  // this run adopted --base
  kAdvanced,     // this run added incremental exports
  kUpToDate,     // less than 15 minutes since the chain's end: nothing to export yet
  kFailed,       // an export FAILED or timed out or was interrupted: the chain stays where it was
};

struct ChainRunOutcome {
  ChainAction action = ChainAction::kUpToDate;
  std::vector<ExportOutcome> exports;  // the exports this run made, in order (the last may have failed)
  ChainState state;                    // as recorded at the end
  std::string state_location;          // s3://.../ddb2s3-chain.json
  std::optional<MergeOutcome> merge;   // with merge, when a new snapshot was written
  double next_window = 0;              // kUpToDate: when the next export may start
};

// One run of the chain: lock, read the state, make the base (or adopt it) on the first run, else the
// incremental exports from the chain's end to now (LatestRestorableDateTime at the latest), recording each
// as it completes; then, with merge, a new snapshot. Errors: usage (bad options), ChainBusy (another run
// holds the lock), ChainMoved (the state changed under this run), AWS and S3 errors.
Result<ChainRunOutcome> run_chain(const ChainRunOptions& options);

struct ChainMergeOptions {
  std::string chain;  // s3://BUCKET/PREFIX holding ddb2s3-chain.json
  std::string to;  // empty: PREFIX/snapshots/<through>; else this folder (the state is updated all the same)
  int partitions = 16;
  int partition = -1;     // -1: all here; else one partition of a merge shared by processes
  bool finalize = false;  // write the manifests of a merge that partitions made, then update the state
  uint64_t file_size = 256ull << 20;
  AwsOptions s3;
  Environment env = Environment::process();
  SessionOptions session;
  std::string run_id;
};

struct ChainMergeOutcome {
  bool up_to_date = false;      // the snapshot already holds every incremental export: nothing written
  bool partition_only = false;  // one partition written; finalize after all of them
  MergeOutcome merge;
  ChainState state;
  std::string to;  // the new snapshot's folder
};

// Merges the chain's incremental exports that its snapshot does not hold yet into a new snapshot and
// records it as current (If-Match on the state). A merge that fails leaves the state and the previous
// snapshot as they were.
Result<ChainMergeOutcome> merge_chain(const ChainMergeOptions& options);

// True when s3://... (or a directory) holds a chain state: how `merge LOCATION` tells a chain from a
// snapshot.
Result<bool> is_chain(const std::string& location, const AwsOptions& s3, const Environment& env,
                      const SessionOptions& session);

}  // namespace ddb2s3

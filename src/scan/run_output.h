// Internal to scan/: what run_scan() and finalize_run() share about the destination: the run id's check,
// opening the sink, refusing a finished run and writing the run's manifests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "scan/manifest.h"
#include "scan/scan.h"

namespace ddb2s3 {

bool valid_run_id(std::string_view id);

// Where a run's objects go, and how: the destination, its AWS side (S3 only), and the S3 sink's knobs.
struct SinkOptions {
  Destination dest;
  AwsOptions aws;
  S3SinkOptions s3;
  Environment env = Environment::process();
  SessionOptions session;
};

// The sink options of a run's options (ScanOptions or FinalizeOptions): their destination, AWS side, object
// headers and bucket owner, with the S3 sink's sizes from s3.
template <class RunOptions>
SinkOptions sink_options(const RunOptions& o, S3SinkOptions s3) {
  s3.object_options = o.object_options;
  s3.expected_bucket_owner = o.expected_bucket_owner;
  return SinkOptions{o.dest, o.dest_aws, std::move(s3), o.env, o.session};
}

// The directory sink for a local destination, else the S3 sink, unchecked (verify reads through it).
Result<std::unique_ptr<Sink>> open_sink(const SinkOptions& options);

// The directory sink for a local destination, else the S3 sink; checked (HeadBucket / the directory can be
// made) before any data moves.
Result<std::unique_ptr<Sink>> open_checked_sink(const SinkOptions& options);

// open_checked_sink(), refused when run_id is already complete there.
Result<std::unique_ptr<Sink>> open_run_sink(const SinkOptions& options, const std::string& run_id);

// PREFIX/RUN_ID/manifest-summary.json's content when the run is complete, else nullopt.
Result<std::optional<std::string>> finished_run_summary(Sink& sink, const Destination& dest,
                                                        const std::string& run_id);

// manifest-files.json, then manifest-summary.json (last: its presence means the run is complete).
// Returns manifest-summary.json's key.
Result<std::string> write_run_manifests(Sink& sink, const Destination& dest, const RunRecord& run);


}  // namespace ddb2s3

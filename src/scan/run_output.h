// Internal to scan/: what run_scan() and finalize_run() share about the destination: the run id's check,
// opening the sink, refusing a finished run and writing the run's manifests.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "scan/manifest.h"
#include "scan/scan.h"

namespace ddb2s3 {

bool valid_run_id(std::string_view id);

Result<std::unique_ptr<Sink>> open_sink(const Destination& dest, const AwsOptions& aws,
                                        const ObjectOptions& object_options,
                                        const std::string& expected_owner, uint64_t part_size, int max_parts,
                                        int upload_threads, const Environment& env,
                                        const SessionOptions& session);

// manifest-files.json, then manifest-summary.json (last: its presence means the run is complete).
Status write_run_manifests(Sink& sink, const Destination& dest, RunRecord& run, ScanSummary& summary);

void fill_summary(ScanSummary& s, const RunRecord& run, const Destination& dest);

// An error when PREFIX/RUN_ID/manifest-summary.json exists already.
Status refuse_finished_run(Sink& sink, const Destination& dest, const std::string& run_id);

}  // namespace ddb2s3

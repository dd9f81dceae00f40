// The destination side shared by run_scan() and finalize_run(): sink, finished-run check, run manifests.
#include "scan/run_output.h"

#include <algorithm>
#include <cctype>

namespace ddb2s3 {

bool valid_run_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
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

}  // namespace ddb2s3

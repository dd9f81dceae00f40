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

namespace {

// An error when PREFIX/RUN_ID/manifest-summary.json exists already.
Status refuse_finished_run(Sink& sink, const Destination& dest, const std::string& run_id) {
  std::string key = dest.key(run_id + "/" + std::string(kManifestSummary));
  DDB2S3_ASSIGN_OR_RETURN(auto existing, finished_run_summary(sink, dest, run_id));
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

}  // namespace

Result<std::unique_ptr<Sink>> open_sink(const SinkOptions& o) {
  if (!o.dest.is_s3) return make_directory_sink(o.dest);
  DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("s3", o.aws, o.env, o.session));
  return make_s3_sink(config, o.dest, o.s3);
}

Result<std::optional<std::string>> finished_run_summary(Sink& sink, const Destination& dest,
                                                        const std::string& run_id) {
  return sink.get(dest.key(run_id + "/" + std::string(kManifestSummary)));
}

Result<std::unique_ptr<Sink>> open_checked_sink(const SinkOptions& options) {
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_sink(options));
  DDB2S3_RETURN_IF_ERROR(sink->check());
  return sink;
}

Result<std::unique_ptr<Sink>> open_run_sink(const SinkOptions& options, const std::string& run_id) {
  DDB2S3_ASSIGN_OR_RETURN(auto sink, open_checked_sink(options));
  DDB2S3_RETURN_IF_ERROR(refuse_finished_run(*sink, options.dest, run_id));
  return sink;
}

Result<std::string> write_run_manifests(Sink& sink, const Destination& dest, const RunRecord& run) {
  std::string prefix = run.run_id + "/";
  std::string files_key = dest.key(prefix + std::string(kManifestFiles));
  DDB2S3_RETURN_IF_ERROR(sink.put(files_key, manifest_files_json(run.files), "application/json"));
  std::string summary_key = dest.key(prefix + std::string(kManifestSummary));
  DDB2S3_RETURN_IF_ERROR(sink.put(summary_key, manifest_summary_json(run, files_key), "application/json"));
  return summary_key;
}

}  // namespace ddb2s3

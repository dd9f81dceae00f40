#include "aws/session.h"

#include <charconv>

namespace ddb2s3 {
namespace {

int parse_attempts(const std::optional<std::string>& text) {
  if (!text) return 0;
  int n = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  return (ec == std::errc() && ptr == text->data() + text->size() && n > 0) ? n : 0;
}

}  // namespace

Result<std::shared_ptr<ServiceConfig>> make_service_config(std::string_view service,
                                                           const AwsOptions& options, const Environment& env,
                                                           const SessionOptions& session) {
  DDB2S3_ASSIGN_OR_RETURN(auto shared, load_shared_config(env));
  DDB2S3_RETURN_IF_ERROR(check_profile_exists(options, env, shared));
  const std::string profile = profile_name(options, env);

  auto imds = [&]() { return imds_region(options, env, shared, session.chain); };
  DDB2S3_ASSIGN_OR_RETURN(auto region, resolve_region(options, env, shared, imds));
  std::string signing_region = region;
  if (signing_region.empty()) {
    // A custom endpoint (dynalite, MinIO, LocalStack...) does not need a region: sign for us-east-1.
    auto probe = resolve_endpoint(service, "us-east-1", options, env, shared);
    if (!probe || !probe->custom) {
      Error e =
          Error::usage("no AWS region is set for " + std::string(service) + " (profile '" + profile + "')");
      e.hint = service == "s3" ? "set the region of the S3 side, AWS_REGION, or region in ~/.aws/config"
                               : "set the region of the table's side, AWS_REGION, or region in ~/.aws/config";
      return e;
    }
    signing_region = "us-east-1";
  }
  DDB2S3_ASSIGN_OR_RETURN(auto endpoint, resolve_endpoint(service, signing_region, options, env, shared));

  DDB2S3_ASSIGN_OR_RETURN(auto credentials, make_credentials_chain(options, env, shared, session.chain));

  auto config = std::make_shared<ServiceConfig>();
  config->service = std::string(service);
  config->region = signing_region;
  config->endpoint = endpoint.url;
  config->s3_path_style = endpoint.s3_path_style;
  config->credentials = std::move(credentials);
  config->cancel = session.cancel;
  if (auto ca = env.get("AWS_CA_BUNDLE")) {
    config->http.ca_bundle = *ca;
  } else if (auto ca_profile = shared.get(profile, "ca_bundle")) {
    config->http.ca_bundle = *ca_profile;
  }
  int attempts = session.max_attempts;
  if (attempts == 0) attempts = parse_attempts(env.get("AWS_MAX_ATTEMPTS"));
  if (attempts == 0) attempts = parse_attempts(shared.get(profile, "max_attempts"));
  if (attempts > 0) config->retry.max_attempts = attempts;
  return config;
}

}  // namespace ddb2s3

// Private to the credentials module: the sources of the chain, each a fetch function that the
// caching provider calls when its credentials are missing or about to expire.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"

namespace ddb2s3::credentials_internal {

using TimePoint = std::chrono::system_clock::time_point;
using Fetch = std::function<Result<Credentials>()>;

TimePoint now(const ChainOptions& chain);

// Caches what fetch returns; fetches again refresh_before_expiry before Expiration. One fetch at a time.
std::shared_ptr<CredentialsProvider> refreshing(Fetch fetch, const ChainOptions& chain);

// An Expiration as AWS writes it, ISO 8601 (2024-01-02T03:04:05Z, with a fraction, +00:00 or "UTC"; UTC when
// no zone is given), clamped to what TimePoint holds: 9999-12-31T23:59:59Z is far in the future, no overflow.
Result<TimePoint> parse_expiration(std::string_view text);

// Why credentials cannot be sent (nullopt when they can): the access key id goes into the Authorization
// header (Credential=ID/...), the session token into X-Amz-Security-Token. Never quotes a value.
std::optional<std::string> credentials_problem(const Credentials& c);

// The string and number fields of a JSON object (numbers as written), or of its member object `member`.
Result<std::map<std::string, std::string>> json_fields(std::string_view json, std::string_view member = {});

std::string read_text_file(const std::string& path, bool* ok);

// Sources. The returned Fetch owns copies of everything it needs.
Fetch process_fetch(std::string command, std::string profile);
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, with the authorization token (file) read on every
// fetch.
Result<Fetch> container_fetch(const Environment& env, const ChainOptions& chain);
bool imds_disabled(const Environment& env, const ChainOptions& chain);
std::string imds_endpoint(std::string_view profile, const Environment& env, const SharedConfig& config,
                          const ChainOptions& chain);
Fetch imds_fetch(std::string endpoint, const ChainOptions& chain);
Result<Fetch> sso_fetch(const std::string& profile, const Environment& env, const SharedConfig& config,
                        const ChainOptions& chain);

struct StsTarget {
  std::string endpoint;  // scheme://host[:port]
  std::string region;    // signing region
};
// The STS endpoint for a profile: chain.sts_endpoint, else resolve_endpoint("sts") in the profile's region
// (us-east-1 when none).
Result<StsTarget> sts_target(const std::string& profile, const AwsOptions& options, const Environment& env,
                             const SharedConfig& config, const ChainOptions& chain);

struct AssumeRoleParams {
  StsTarget sts;
  std::string role_arn;
  std::string session_name;
  std::string external_id;       // AssumeRole only
  std::string duration_seconds;  // empty: STS's default (1 hour)
};
// STS AssumeRole, signed with the source's credentials.
Fetch assume_role_fetch(AssumeRoleParams params, std::shared_ptr<CredentialsProvider> source,
                        const ChainOptions& chain);
// STS AssumeRoleWithWebIdentity (unsigned), the token file read on every fetch.
Fetch web_identity_fetch(AssumeRoleParams params, std::string token_file, const ChainOptions& chain);

// "ddb2s3-<milliseconds since epoch>", as the AWS CLI names its sessions "botocore-session-<seconds>".
std::string default_session_name(const ChainOptions& chain);

}  // namespace ddb2s3::credentials_internal

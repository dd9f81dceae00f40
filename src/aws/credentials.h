// Credentials, resolved like the AWS CLI v2: first source that has them wins.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/config.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "base/result.h"

namespace ddb2s3 {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Thread-safe. Temporary credentials are refreshed before they expire.
  virtual Result<Credentials> credentials() = 0;
};

// The explicit keys of options (access_key_id, secret_access_key, session_token), checked as the chain would
// use them: one of the pair without the other, or a value that cannot be sent, is a usage error naming the
// option (AwsOptions::option_name; never the value). OK when none is set. No network: callers check both
// sides with it before their first AWS call.
Status check_explicit_keys(const AwsOptions& options);

// Fixed keys (tests, and explicit keys).
std::shared_ptr<CredentialsProvider> static_credentials(Credentials c);

// Knobs of the chain; the defaults are the AWS CLI's. Tests point the endpoints at loopback servers.
struct ChainOptions {
  std::string sts_endpoint;  // empty: resolve_endpoint("sts") (so AWS_ENDPOINT_URL_STS works)
  std::string sso_endpoint;  // empty: resolve_endpoint("sso", sso_region) = https://portal.sso.REGION...
  std::string container_endpoint;  // empty: http://169.254.170.2 (for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
  std::string imds_endpoint;       // empty: AWS_EC2_METADATA_SERVICE_ENDPOINT, profile
                                   // ec2_metadata_service_endpoint, else http://169.254.169.254
  bool disable_imds = false;       // also AWS_EC2_METADATA_DISABLED=true
  std::chrono::milliseconds imds_timeout{1000};                // connect and read: fail fast off EC2
  std::chrono::milliseconds container_timeout{2000};           // connect and read
  std::chrono::seconds refresh_before_expiry{300};             // temporary credentials are renewed this early
  std::function<std::chrono::system_clock::time_point()> now;  // empty: the system clock
  HttpOptions http;                                            // STS and SSO calls (CA bundle, TLS)
};

// The AWS CLI v2 chain, first source that is configured wins: an explicit profile (options.profile; then the
// environment keys are not used), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], the profile
// (AWS_PROFILE or "default": role_arn with source_profile or credential_source, web_identity_token_file, SSO,
// keys in the credentials file, credential_process, keys in the config file), AWS_WEB_IDENTITY_TOKEN_FILE +
// AWS_ROLE_ARN, container credentials, EC2 instance metadata (IMDSv2). No network here: sources that need it
// are asked on the first credentials() call. Errors: a misconfigured profile (kUsage), and, when no source is
// configured, kClient "NoCredentials" listing where we looked (also returned by credentials() when the EC2
// instance metadata service, the last resort, has none).
Result<std::shared_ptr<CredentialsProvider>> make_credentials_chain(const AwsOptions& options,
                                                                    const Environment& env,
                                                                    const SharedConfig& config,
                                                                    const ChainOptions& chain = {});

// The EC2 instance's region from IMDSv2 (placement/region), or nullopt when disabled, off EC2 or on any
// failure. For resolve_region's imds_region hook.
std::optional<std::string> imds_region(const AwsOptions& options, const Environment& env,
                                       const SharedConfig& config, const ChainOptions& chain = {});

}  // namespace ddb2s3

// Shared AWS configuration (~/.aws/config, ~/.aws/credentials), region and endpoint resolution,
// as the AWS CLI v2 does them. No network: the IMDS region lookup is a hook given by the caller.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/environment.h"
#include "base/result.h"

namespace ddb2s3 {

// One side (source or destination) as given on the command line; empty fields are unset.
struct AwsOptions {
  std::string profile;
  std::string region;
  std::string endpoint_url;
  // What the caller calls this side, so that an error about a value given here names it: "source" makes
  // them "source.region" and "source.endpoint_url" (in the message and in Error::field); empty: "region".
  std::string name;
  // Explicit keys (as boto3's client(aws_access_key_id=...)): when set they win over the whole credentials
  // chain of this side. Secrets: never printed, logged or stored (manifests, checkpoints).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // with the two keys only

  std::string option_name(std::string_view member) const {
    return name.empty() ? std::string(member) : name + "." + std::string(member);
  }
};

// One INI section: `key = value` lines, and nested sub-sections (`s3 =` then indented `key = value`).
struct ConfigSection {
  std::map<std::string, std::string> values;                         // keys case as given
  std::map<std::string, std::map<std::string, std::string>> nested;  // "s3" -> {"addressing_style": "path"}

  std::optional<std::string> get(std::string_view key) const;
  std::optional<std::string> get_nested(std::string_view section, std::string_view key) const;
};

struct SharedConfig {
  std::string config_path;  // as resolved, even when the file does not exist
  std::string credentials_path;
  bool config_found = false;
  bool credentials_found = false;
  std::map<std::string, ConfigSection> config_profiles;       // config: [default], [profile x]
  std::map<std::string, ConfigSection> credentials_profiles;  // credentials: [x]
  std::map<std::string, ConfigSection> sso_sessions;          // config: [sso-session x]
  std::map<std::string, ConfigSection> services;              // config: [services x]

  bool has_profile(std::string_view profile) const;
  // The credentials file wins over the config file for the same key, as in the AWS CLI.
  std::optional<std::string> get(std::string_view profile, std::string_view key) const;
  std::optional<std::string> get_nested(std::string_view profile, std::string_view section,
                                        std::string_view key) const;
  // A profile key read as a boolean ("true", any case); false when absent.
  bool get_bool(std::string_view profile, std::string_view key) const;
};

// Parses the two files' text (file names only label errors). Unparseable lines are kUsage errors.
Result<SharedConfig> parse_shared_config(std::string_view config_text, std::string_view credentials_text,
                                         std::string config_path = "config",
                                         std::string credentials_path = "credentials");

// AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else HOME/.aws/config and HOME/.aws/credentials.
// Missing files read as empty; an unreadable or unparseable file is an error.
Result<SharedConfig> load_shared_config(const Environment& env);

// Explicit option > AWS_PROFILE > "default".
std::string profile_name(const AwsOptions& options, const Environment& env);

// A profile named explicitly (option or AWS_PROFILE) must exist in one of the files; "default" need not.
Status check_profile_exists(const AwsOptions& options, const Environment& env, const SharedConfig& config);

// A region name as AWS spells them (us-east-1, cn-north-1, us-gov-west-1): lower-case letters, digits and
// hyphens, 1 to 63 characters (a host name label: it goes into host names and the signature's scope), no
// hyphen first or last. Every region, wherever it comes from (options, environment, profile, an ARN, a
// server's redirect), is checked with this before it is used.
// Inline: the clients (s3/) check redirects' regions with it without linking the config module.
constexpr bool is_region_name(std::string_view region) {
  if (region.empty() || region.size() > 63 || region.front() == '-' || region.back() == '-') return false;
  for (char c : region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

// options.region > AWS_REGION > AWS_DEFAULT_REGION > profile `region` > imds_region() > "" (unknown).
// A region that is not a region name (is_region_name) is a kUsage error naming where it came from.
Result<std::string> resolve_region(const AwsOptions& options, const Environment& env,
                                   const SharedConfig& config,
                                   const std::function<std::optional<std::string>()>& imds_region = {});

struct Endpoint {
  std::string url;      // scheme://host[:port], no trailing slash
  bool custom = false;  // configured by the user rather than derived from the region
  bool s3_path_style =
      false;  // S3: bucket in the path (profile s3.addressing_style = path, or custom endpoint)
};

// service: "dynamodb" | "s3" | "sts" | "sso". Precedence: options.endpoint_url > AWS_ENDPOINT_URL_<SERVICE> >
// AWS_ENDPOINT_URL > profile `services` section's <service>.endpoint_url > profile `endpoint_url` > AWS's
// default for the region (FIPS and dual-stack from AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT or the
// profile, China and ISO partitions). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
// ignore_configured_endpoint_urls) disables the environment and profile URLs, not options.endpoint_url.
Result<Endpoint> resolve_endpoint(std::string_view service, std::string_view region,
                                  const AwsOptions& options, const Environment& env,
                                  const SharedConfig& config);

// The URL (no trailing slash) for a bucket: virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com) when
// possible, else path style (ENDPOINT/BUCKET): custom endpoint, path style configured or asked, or a bucket
// name that is not one DNS label (dots break TLS host names).
std::string s3_bucket_url(const Endpoint& endpoint, std::string_view bucket, bool force_path_style);

}  // namespace ddb2s3

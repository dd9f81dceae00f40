// AWS Signature Version 4, as a pure function of (request, credentials, region, service, time).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http.h"

namespace ddb2s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // temporary credentials
  std::string source;  // where they came from, e.g. "environment", "profile dev" (never the secret)
};

struct SigningParams {
  std::string region;
  std::string service;  // "dynamodb", "s3", "sts", ...
  std::chrono::system_clock::time_point time;
  // S3: the path is used as sent (encoded once, not normalized); other services: normalized and
  // encoded a second time.
  bool s3_path = false;
  // Adds x-amz-content-sha256 with the body's hash (S3 requires it).
  bool content_sha256_header = false;
};

// Adds X-Amz-Date, X-Amz-Security-Token (when a session token is set), X-Amz-Content-Sha256 (when
// asked) and Authorization to the request, replacing earlier ones (so a retry can be signed again).
// Host comes from the URL when not set. Every other header present is signed, except the ones that
// proxies and clients change (user-agent, expect, x-amzn-trace-id); duplicate names are joined by ','.
// Without content_sha256_header, an X-Amz-Content-Sha256 already set (e.g. UNSIGNED-PAYLOAD) is used as
// the payload hash, as botocore does.
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningParams& params);

// The Host header sign_request derives from a URL when none is set, as botocore does: the host lower-cased,
// the scheme's default port (http 80, https 443) left out, any other port kept.
std::string host_header(std::string_view url);

// The steps, exposed for AWS's published test suite.
std::string canonical_request(const HttpRequest& request, const SigningParams& params,
                              std::string_view payload_hash);
std::string string_to_sign(std::string_view canonical_request, const SigningParams& params);
std::string signature(std::string_view string_to_sign, const Credentials& credentials,
                      const SigningParams& params);

// "20150830T123600Z": the X-Amz-Date form of a time (UTC).
std::string amz_date(std::chrono::system_clock::time_point time);

}  // namespace ddb2s3

// One AWS service endpoint as seen by one worker: sign, send over a kept-alive connection, retry.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/retry.h"

namespace ddb2s3 {

// Everything about one side (source or destination) and one service; shared by its workers.
struct ServiceConfig {
  std::string service;   // signing name: "dynamodb", "s3", "sts"
  std::string region;    // signing region
  std::string endpoint;  // scheme://host[:port] (no path), resolved
  bool s3_path_style = false;  // S3: bucket in the path instead of the host name
  std::shared_ptr<CredentialsProvider> credentials;
  RetryPolicy retry;
  HttpOptions http;
  std::shared_ptr<ThrottleSignal> throttle = std::make_shared<ThrottleSignal>();
  RetryClock clock = RetryClock::system();
  // Set (e.g. by a SIGINT handler, through ScanOptions::cancel) to stop: a call waiting to retry, or in the
  // shared throttle pause, returns an ErrorKind::kCancelled error within ~10 ms. May be null.
  const std::atomic<bool>* cancel = nullptr;
};

struct CallInfo {
  std::string_view operation;  // "Scan", "PutObject"
  std::string resource;        // "table 'orders'", "s3://bucket/key"
  // Checks a 2xx answer; an Error returned is treated like any other (classified, maybe retried):
  // e.g. an x-amz-crc32 mismatch, or a 200 whose body is an <Error>.
  std::function<std::optional<Error>(const HttpResponse&)> check;
  // A call that cleans up after a failure or a cancellation (AbortMultipartUpload): once cancel is set it is
  // still sent and retried, but at most kCleanupAttemptsWhenCancelled times, without the shared pause.
  bool cleanup = false;
};

inline constexpr int kCleanupAttemptsWhenCancelled = 3;

// Not thread-safe: one per worker thread (it owns that worker's connection).
class AwsClient {
 public:
  explicit AwsClient(std::shared_ptr<const ServiceConfig> config);

  // Signs (fresh credentials and time on every attempt), sends, and retries throttling and transient
  // failures per the policy. A non-2xx answer becomes an Error carrying status, the AWS error code
  // and message (parsed from a JSON or XML body), request id, operation and resource.
  Status send(HttpRequest& request, HttpResponse& response, const CallInfo& info);

  const ServiceConfig& config() const { return *config_; }

 private:
  std::shared_ptr<const ServiceConfig> config_;
  HttpClient http_;
};

// The AWS error code and message of an error answer (JSON "__type"/"message" or XML <Code>/<Message>);
// used by AwsClient and by the S3 client for a 200 whose body is an <Error>.
Error error_from_response(const HttpResponse& response, const CallInfo& info);

// DynamoDB's x-amz-crc32 check (zlib CRC32 of the body as received), for CallInfo::check: nullopt when the
// header is absent or matches; a mismatch is Error{kTransient, "CRC32CheckFailed"}, so the call is retried.
std::optional<Error> check_dynamodb_crc32(const HttpResponse& response);

}  // namespace ddb2s3

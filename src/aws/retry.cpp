// Retry policy: classification of AWS answers, full-jitter back-off, and the shared throttle pause.
#include "aws/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace ddb2s3 {
namespace {

// The codes AWS SDKs (botocore's standard mode) treat as "slow down".
constexpr std::array<std::string_view, 13> kThrottlingCodes = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "TransactionInProgressException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// Server-side hiccups and our own transport failures: retry as they are.
constexpr std::array<std::string_view, 15> kTransientCodes = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "IDPCommunicationError",
    // transport (HttpClient) and response checks (AwsClient)
    "ConnectionRefused",
    "ConnectionReset",
    "Timeout",
    "ConnectionError",
    "DnsError",
    "CRC32CheckFailed",
    "IncompleteBody",
};

bool contains(auto const& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

}  // namespace

ErrorKind classify(int http_status, std::string_view aws_code) {
  // Some services send "namespace#Code" or "Code:detail".
  if (size_t hash = aws_code.rfind('#'); hash != std::string_view::npos) aws_code.remove_prefix(hash + 1);
  if (size_t colon = aws_code.find(':'); colon != std::string_view::npos)
    aws_code = aws_code.substr(0, colon);
  if (contains(kThrottlingCodes, aws_code)) return ErrorKind::kThrottling;
  if (contains(kTransientCodes, aws_code)) return ErrorKind::kTransient;
  if (http_status == 429 || http_status == 503) return ErrorKind::kThrottling;
  if (http_status == 500 || http_status == 502 || http_status == 504) return ErrorKind::kTransient;
  return ErrorKind::kClient;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double uniform01) {
  attempt = std::clamp(attempt, 1, 63);
  uniform01 = std::clamp(std::isnan(uniform01) ? 0.0 : uniform01, 0.0, 1.0);
  double ceiling = std::min(static_cast<double>(policy.max_delay.count()),
                            static_cast<double>(policy.base_delay.count()) * std::ldexp(1.0, attempt - 1));
  return std::chrono::milliseconds(std::llround(std::max(0.0, ceiling) * uniform01));
}

void ThrottleSignal::throttled_until(std::chrono::steady_clock::time_point t) {
  {
    std::lock_guard lock(mu_);
    until_ = std::max(until_, t);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::chrono::steady_clock::time_point ThrottleSignal::paused_until() const {
  std::lock_guard lock(mu_);
  return until_;
}

RetryClock RetryClock::system() {
  RetryClock clock;
  clock.now = [] { return std::chrono::steady_clock::now(); };
  clock.uniform01 = [] {
    // One generator per thread: no lock, no shared state between workers.
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
  };
  return clock;
}

}  // namespace ddb2s3

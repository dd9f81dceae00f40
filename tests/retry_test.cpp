// Retry policy: which answers are retried and how long we back off.
#include "aws/retry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ddb2s3 {
namespace {

using std::chrono::milliseconds;

struct Case {
  int status;
  std::string code;
  ErrorKind expected;
};

TEST(Classify, ThrottlingTransientAndClientAnswers) {
  const std::vector<Case> cases = {
      // DynamoDB and other JSON services: throttling comes as 400 with a code.
      {400, "ProvisionedThroughputExceededException", ErrorKind::kThrottling},
      {400, "ThrottlingException", ErrorKind::kThrottling},
      {400, "Throttling", ErrorKind::kThrottling},
      {400, "ThrottledException", ErrorKind::kThrottling},
      {400, "RequestLimitExceeded", ErrorKind::kThrottling},
      {400, "TooManyRequestsException", ErrorKind::kThrottling},
      {400, "RequestThrottled", ErrorKind::kThrottling},
      {400, "RequestThrottledException", ErrorKind::kThrottling},
      {400, "TransactionInProgressException", ErrorKind::kThrottling},
      {503, "SlowDown", ErrorKind::kThrottling},
      {429, "", ErrorKind::kThrottling},
      {503, "", ErrorKind::kThrottling},
      {400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
       ErrorKind::kThrottling},
      // Server hiccups and transport failures.
      {500, "", ErrorKind::kTransient},
      {502, "", ErrorKind::kTransient},
      {504, "", ErrorKind::kTransient},
      {400, "RequestTimeout", ErrorKind::kTransient},
      {400, "RequestTimeoutException", ErrorKind::kTransient},
      {500, "InternalError", ErrorKind::kTransient},
      {500, "InternalServerError", ErrorKind::kTransient},
      {503, "ServiceUnavailable", ErrorKind::kTransient},
      {0, "ConnectionRefused", ErrorKind::kTransient},
      {0, "ConnectionReset", ErrorKind::kTransient},
      {0, "Timeout", ErrorKind::kTransient},
      {0, "ConnectionError", ErrorKind::kTransient},
      {0, "DnsError", ErrorKind::kTransient},
      {200, "CRC32CheckFailed", ErrorKind::kTransient},
      // The request itself is wrong: retrying cannot help.
      {400, "ValidationException", ErrorKind::kClient},
      {400, "ResourceNotFoundException", ErrorKind::kClient},
      {400, "ConditionalCheckFailedException", ErrorKind::kClient},
      {400, "UnrecognizedClientException", ErrorKind::kClient},
      {403, "AccessDenied", ErrorKind::kClient},
      {403, "SignatureDoesNotMatch", ErrorKind::kClient},
      {404, "NoSuchBucket", ErrorKind::kClient},
      {404, "", ErrorKind::kClient},
      {301, "PermanentRedirect", ErrorKind::kClient},
      {501, "NotImplemented", ErrorKind::kClient},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classify(c.status, c.code), c.expected) << "HTTP " << c.status << " " << c.code;
  }
}

TEST(BackoffDelay, FullJitterBetweenZeroAndTheExponentialCeiling) {
  RetryPolicy p;
  p.base_delay = milliseconds(50);
  p.max_delay = milliseconds(20'000);
  EXPECT_EQ(backoff_delay(p, 1, 0.0), milliseconds(0));
  EXPECT_EQ(backoff_delay(p, 1, 1.0), milliseconds(50));
  EXPECT_EQ(backoff_delay(p, 1, 0.5), milliseconds(25));
  EXPECT_EQ(backoff_delay(p, 2, 1.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(p, 3, 1.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 4, 0.5), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 9, 1.0), milliseconds(12'800));
  EXPECT_EQ(backoff_delay(p, 10, 0.0), milliseconds(0));
}

TEST(BackoffDelay, CappedByMaxDelayEvenForHugeAttemptNumbers) {
  RetryPolicy p;
  p.base_delay = milliseconds(50);
  p.max_delay = milliseconds(20'000);
  EXPECT_EQ(backoff_delay(p, 10, 1.0), milliseconds(20'000));  // 50 * 512 = 25600 > cap
  EXPECT_EQ(backoff_delay(p, 10, 0.5), milliseconds(10'000));
  EXPECT_EQ(backoff_delay(p, 64, 1.0), milliseconds(20'000));
  EXPECT_EQ(backoff_delay(p, 100'000, 1.0), milliseconds(20'000));
}

TEST(ThrottleSignal, KeepsTheLatestPauseAndCountsThrottles) {
  ThrottleSignal s;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::seconds(100);
  EXPECT_EQ(s.throttle_count(), 0u);
  s.throttled_until(t0 + milliseconds(500));
  s.throttled_until(t0 + milliseconds(200));  // an earlier end must not shorten the pause
  EXPECT_EQ(s.paused_until(), t0 + milliseconds(500));
  s.throttled_until(t0 + milliseconds(900));
  EXPECT_EQ(s.paused_until(), t0 + milliseconds(900));
  EXPECT_EQ(s.throttle_count(), 3u);
}

TEST(RetryClock, SystemClockDrawsUniformNumbersInTheUnitInterval) {
  RetryClock clock = RetryClock::system();
  EXPECT_FALSE(clock.sleep);  // real waits, which a cancel cuts short (AwsClient, base/cancel.h)
  ASSERT_TRUE(clock.uniform01);
  std::set<double> seen;
  for (int i = 0; i < 1000; ++i) {
    double u = clock.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LE(u, 1.0);
    seen.insert(u);
  }
  EXPECT_GT(seen.size(), 990u);  // random, not a constant
  auto a = clock.now();
  EXPECT_GE(clock.now(), a);
}

}  // namespace
}  // namespace ddb2s3

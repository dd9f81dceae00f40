// AwsClient: signing every attempt, error answers parsed into Errors, retries on a fake clock, and real
// signed calls to dynalite.
#include "aws/client.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/aws_fixtures.h"
#include "support/http_server.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using std::chrono::milliseconds;
using testing::TestHttpServer;

class NoCredentials : public CredentialsProvider {
 public:
  Result<Credentials> credentials() override {
    ++calls;
    return Error::make(ErrorKind::kClient, "NoCredentials", "no credentials found");
  }
  int calls = 0;
};

// Time that moves only when the client sleeps; every sleep is recorded.
struct FakeClock {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::vector<milliseconds> sleeps;
  double u = 0.5;

  RetryClock clock() {
    RetryClock c;
    c.now = [this] { return t; };
    c.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      t += d;
    };
    c.uniform01 = [this] { return u; };
    return c;
  }
};

std::shared_ptr<ServiceConfig> make_config(const std::string& endpoint, FakeClock& fake,
                                           const std::string& service = "dynamodb") {
  auto cfg = testing::test_service_config(service, endpoint);
  cfg->retry.base_delay = milliseconds(50);
  cfg->clock = fake.clock();
  return cfg;
}

HttpRequest dynamodb_request(const std::string& endpoint, const std::string& target, std::string_view body) {
  HttpRequest r;
  r.method = "POST";
  r.url = endpoint + "/";
  r.set_header("Content-Type", "application/x-amz-json-1.0");
  r.set_header("X-Amz-Target", "DynamoDB_20120810." + target);
  r.body = body;
  return r;
}

uLong crc32_of(std::string_view s) { return crc32(0L, reinterpret_cast<const Bytef*>(s.data()), s.size()); }

constexpr const char* kThrottleBody =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
    R"("message":"The level of configured provisioned throughput for the table was exceeded."})";

// A server whose answers are scripted per request, in order; the last one repeats.
struct Script {
  struct Answer {
    int status;
    std::string body;
    std::string content_type = "application/x-amz-json-1.0";
    Headers headers;
  };
  std::mutex mu;
  std::vector<Answer> answers;
  std::atomic<int> count{0};
  std::vector<std::string> authorizations;
  std::vector<size_t> authorization_counts;
  std::vector<std::string> content_sha256;

  void serve(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    int i = count++;
    authorizations.push_back(req.get_header_value("Authorization"));
    authorization_counts.push_back(req.get_header_value_count("Authorization"));
    content_sha256.push_back(req.get_header_value("X-Amz-Content-Sha256"));
    const Answer& a = answers.at(std::min<size_t>(i, answers.size() - 1));
    res.status = a.status;
    for (const auto& [n, v] : a.headers) res.set_header(n, v);
    if (!a.body.empty()) res.set_content(a.body, a.content_type.c_str());
  }
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { script_.serve(req, res); };
    server_.server().Post("/.*", handler);
    server_.server().Get("/.*", handler);
    server_.server().Put("/.*", handler);
    server_.start();
  }
  void answer(int status, std::string body, Headers headers = {}) {
    script_.answers.push_back({status, std::move(body), "application/x-amz-json-1.0", std::move(headers)});
  }
  void answer_xml(int status, std::string body) {
    script_.answers.push_back({status, std::move(body), "application/xml", {}});
  }

  Script script_;
  TestHttpServer server_;  // after script_: stops (joining handlers) before script_ goes away
  FakeClock fake_;
};

TEST_F(ClientTest, ThrottledTwiceThenSucceedsAfterTheExpectedBackOff) {
  answer(400, kThrottleBody);
  answer(400, kThrottleBody);
  answer(200, R"({"TableNames":[]})");
  auto cfg = make_config(server_.url(), fake_);
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "ListTables", "{}");
  const Headers before = req.headers;
  HttpResponse res;
  Status st = client.send(req, res, {"ListTables", "", nullptr});
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(script_.count, 3);
  EXPECT_EQ(res.body, R"({"TableNames":[]})");
  // Full jitter with u = 0.5 and base 50 ms: 25 ms after the first attempt, 50 ms after the second.
  EXPECT_EQ(fake_.sleeps, (std::vector<milliseconds>{milliseconds(25), milliseconds(50)}));
  EXPECT_EQ(cfg->throttle->throttle_count(), 2u);
  // Every attempt carried exactly one fresh signature for our key; the caller's request is left as given.
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(script_.authorization_counts[i], 1u);
    EXPECT_TRUE(script_.authorizations[i].starts_with("AWS4-HMAC-SHA256 Credential=S3RVER/"));
  }
  EXPECT_EQ(req.headers, before);
}

TEST_F(ClientTest, PersistentServerErrorFailsAfterMaxAttemptsAndSaysSo) {
  answer(500, "");
  auto cfg = make_config(server_.url(), fake_);
  cfg->retry.max_attempts = 4;
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", R"({"TableName":"orders"})");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 'orders'", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(script_.count, 4);
  EXPECT_EQ(fake_.sleeps.size(), 3u);
  const Error& e = st.error();
  EXPECT_EQ(e.kind, ErrorKind::kTransient);
  EXPECT_EQ(e.http_status, 500);
  EXPECT_EQ(e.code, "InternalServerError");
  EXPECT_EQ(e.operation, "Scan");
  EXPECT_EQ(e.resource, "table 'orders'");
  EXPECT_NE(e.to_string().find("after 4 attempts"), std::string::npos) << e.to_string();
}

TEST_F(ClientTest, ThrottlingThatNeverEndsAdvisesLessParallelism) {
  answer(400, kThrottleBody);
  auto cfg = make_config(server_.url(), fake_);
  cfg->retry.max_attempts = 3;
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 't'", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kThrottling);
  EXPECT_EQ(st.error().code, "ProvisionedThroughputExceededException");
  EXPECT_NE(st.error().hint.find("still throttled after 3 attempts"), std::string::npos) << st.error().hint;
  // In words that hold for any caller of the library (the CLI's flags are its own).
  EXPECT_NE(st.error().hint.find("scan fewer segments at once"), std::string::npos) << st.error().hint;
  EXPECT_EQ(st.error().hint.find("--"), std::string::npos) << st.error().hint;
}

TEST_F(ClientTest, TotalBackOffBudgetStopsRetriesEarly) {
  answer(503, "");
  auto cfg = make_config(server_.url(), fake_);
  fake_.u = 1.0;  // delays 50, 100, 200...
  cfg->clock = fake_.clock();
  cfg->retry.max_total_delay = milliseconds(120);
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(script_.count, 2);  // 50 fits the budget, 50 + 100 does not
  EXPECT_EQ(fake_.sleeps, (std::vector<milliseconds>{milliseconds(50)}));
  EXPECT_EQ(st.error().kind, ErrorKind::kThrottling);
  EXPECT_EQ(st.error().code, "ServiceUnavailable");
}

TEST_F(ClientTest, ValidationErrorIsNotRetriedAndKeepsCodeMessageAndRequestId) {
  answer(
      400,
      R"({"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected"})",
      {{"x-amzn-RequestId", "REQ123"}});
  auto cfg = make_config(server_.url(), fake_);
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 'orders'", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(script_.count, 1);
  EXPECT_TRUE(fake_.sleeps.empty());
  const Error& e = st.error();
  EXPECT_EQ(e.kind, ErrorKind::kClient);
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.message, "1 validation error detected");
  EXPECT_EQ(e.request_id, "REQ123");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(
      e.to_string(),
      "Scan on table 'orders' failed: ValidationException: 1 validation error detected (HTTP 400, request id "
      "REQ123)");
}

TEST_F(ClientTest, S3XmlErrorIsParsedAndS3RequestsCarryThePayloadHash) {
  answer_xml(404,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
             "<Message>The specified key does not "
             "exist.</Message><Key>a/b</Key><RequestId>4442587FB7D0A2F9</RequestId>"
             "</Error>");
  auto cfg = make_config(server_.url(), fake_, "s3");
  AwsClient client(cfg);
  HttpRequest req;
  req.method = "GET";
  req.url = server_.url() + "/bucket/a/b";
  HttpResponse res;
  Status st = client.send(req, res, {"GetObject", "s3://bucket/a/b", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "NoSuchKey");
  EXPECT_EQ(st.error().message, "The specified key does not exist.");
  EXPECT_EQ(st.error().request_id, "4442587FB7D0A2F9");
  EXPECT_EQ(st.error().kind, ErrorKind::kClient);
  EXPECT_EQ(script_.count, 1);
  // SHA-256 of the empty body.
  EXPECT_EQ(script_.content_sha256.at(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ClientTest, S3SlowDownIsRetried) {
  answer_xml(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  answer(200, "");
  auto cfg = make_config(server_.url(), fake_, "s3");
  AwsClient client(cfg);
  std::string body = "part data";
  HttpRequest req;
  req.method = "PUT";
  req.url = server_.url() + "/bucket/key";
  req.body = body;
  HttpResponse res;
  ASSERT_TRUE(client.send(req, res, {"PutObject", "s3://bucket/key", nullptr}).ok());
  EXPECT_EQ(script_.count, 2);
  EXPECT_EQ(cfg->throttle->throttle_count(), 1u);
}

TEST(ErrorFromResponse, BareStatusAndQueryProtocolAndHeaderOnlyCodes) {
  CallInfo info{"HeadBucket", "s3://b", nullptr};
  HttpResponse r;
  r.status = 403;
  EXPECT_EQ(error_from_response(r, info).code, "Forbidden");
  r.status = 404;
  EXPECT_EQ(error_from_response(r, info).code, "NotFound");
  r.status = 301;
  r.headers = {{"x-amz-request-id", "RID"}};
  Error moved = error_from_response(r, info);
  EXPECT_EQ(moved.code, "MovedPermanently");
  EXPECT_EQ(moved.request_id, "RID");
  EXPECT_EQ(moved.kind, ErrorKind::kClient);
  EXPECT_EQ(moved.operation, "HeadBucket");

  HttpResponse sts;  // STS and other query-protocol services wrap the error
  sts.status = 403;
  sts.body =
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
      "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid."
      "</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>";
  Error e = error_from_response(sts, info);
  EXPECT_EQ(e.code, "InvalidClientTokenId");
  EXPECT_EQ(e.request_id, "abc-123");

  HttpResponse typed;  // rest-json services may send the code only in a header
  typed.status = 404;
  typed.headers = {{"x-amzn-errortype", "ResourceNotFoundException:http://internal.amazon.com/coral/"}};
  typed.body = R"({"Message":"not here"})";
  Error t = error_from_response(typed, info);
  EXPECT_EQ(t.code, "ResourceNotFoundException");
  EXPECT_EQ(t.message, "not here");

  HttpResponse proxy;
  proxy.status = 502;
  proxy.body = "upstream connect error";
  Error p = error_from_response(proxy, info);
  EXPECT_EQ(p.code, "BadGateway");
  EXPECT_EQ(p.message, "upstream connect error");
  EXPECT_EQ(p.kind, ErrorKind::kTransient);
}

// A server's code, message and request id reach the user's terminal: control bytes are shown escaped.
TEST(ErrorFromResponse, ControlCharactersFromTheServerAreEscaped) {
  CallInfo info{"Scan", "table 't'", nullptr};
  HttpResponse r;
  r.status = 400;
  r.headers = {{"x-amzn-requestid", "R\x1b[2J"}};
  r.body = R"({"__type":"com.amazon#ValidationException","message":"bad\nddb2s3: forged line \u001b[31mred"})";
  Error e = error_from_response(r, info);
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.message, R"(bad\x0addb2s3: forged line \x1b[31mred)");
  EXPECT_EQ(e.request_id, R"(R\x1b[2J)");
  EXPECT_EQ(e.to_string().find_first_of("\n\r\x1b"), std::string::npos) << e.to_string();

  HttpResponse xml;
  xml.status = 403;
  xml.body = "<Error><Code>AccessDenied</Code><Message>no&#13;&#10;way</Message></Error>";
  EXPECT_EQ(error_from_response(xml, info).message, R"(no\x0d\x0away)");
}

TEST_F(ClientTest, AuthenticationFailuresGetAHint) {
  struct Case {
    int status;
    std::string body;
    bool xml;
    std::string hint_part;
  };
  const std::vector<Case> cases = {
      {400,
       R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided."})",
       false, "secret access key"},
      {400,
       R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z"})",
       false, "clock skew"},
      {403,
       "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not "
       "match</Message></Error>",
       true, "secret access key"},
      {403,
       "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the "
       "current time is too large.</Message></Error>",
       true, "clock skew"},
      {400,
       R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})",
       false, "access key id"},
      {403,
       "<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in "
       "our records.</Message></Error>",
       true, "not known to this endpoint/account"},
  };
  for (const auto& c : cases) {
    script_.answers.clear();
    if (c.xml) {
      answer_xml(c.status, c.body);
    } else {
      answer(c.status, c.body);
    }
    int before = script_.count;
    auto cfg = make_config(server_.url(), fake_);
    AwsClient client(cfg);
    HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
    HttpResponse res;
    Status st = client.send(req, res, {"Scan", "table 't'", nullptr});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, ErrorKind::kClient) << c.body;
    EXPECT_EQ(script_.count - before, 1) << "not retried: " << c.body;
    EXPECT_NE(st.error().hint.find(c.hint_part), std::string::npos) << st.error().hint;
    if (c.hint_part != "clock skew") {
      EXPECT_NE(st.error().hint.find("from test"), std::string::npos) << "names the credentials' source";
    }
  }
}

TEST(ClientCredentials, MissingCredentialsAreReturnedWithoutSendingOrRetrying) {
  TestHttpServer server;
  std::atomic<int> hits{0};
  server.server().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content("{}", "application/x-amz-json-1.0");
  });
  server.start();
  FakeClock fake;
  auto cfg = make_config(server.url(), fake);
  auto none = std::make_shared<NoCredentials>();
  cfg->credentials = none;
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server.url(), "ListTables", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"ListTables", "", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "NoCredentials");
  EXPECT_EQ(st.error().operation, "ListTables");
  EXPECT_NE(st.error().hint.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(st.error().hint.find("~/.aws/credentials"), std::string::npos);
  EXPECT_EQ(hits, 0);
  EXPECT_EQ(none->calls, 1);
}

TEST(CheckDynamodbCrc32, ComparesTheBodyWithTheHeader) {
  HttpResponse r;
  r.status = 200;
  r.body = "123456789";
  EXPECT_FALSE(check_dynamodb_crc32(r).has_value());  // no header: nothing to check
  r.headers = {{"x-amz-crc32", "3421780262"}};        // the CRC-32 check value of "123456789"
  EXPECT_FALSE(check_dynamodb_crc32(r).has_value());
  r.body = "123456780";
  auto e = check_dynamodb_crc32(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "CRC32CheckFailed");
  EXPECT_EQ(e->kind, ErrorKind::kTransient);
}

TEST_F(ClientTest, Crc32MismatchIsRetried) {
  answer(200, R"({"Count":1})", {{"x-amz-crc32", "12345"}});  // corrupted in transit
  answer(200, R"({"Count":2})", {{"x-amz-crc32", std::to_string(crc32_of(R"({"Count":2})"))}});
  auto cfg = make_config(server_.url(), fake_);
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 't'", check_dynamodb_crc32});
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(script_.count, 2);
  EXPECT_EQ(res.body, R"({"Count":2})");
  EXPECT_EQ(fake_.sleeps.size(), 1u);
}

TEST_F(ClientTest, TransportFailuresAreRetriedThenReported) {
  std::string dead_url;
  {
    TestHttpServer gone;
    gone.start();
    dead_url = gone.url();
  }
  auto cfg = make_config(dead_url, fake_);
  cfg->retry.max_attempts = 3;
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(dead_url, "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 't'", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "ConnectionRefused");
  EXPECT_EQ(st.error().operation, "Scan");
  EXPECT_EQ(fake_.sleeps.size(), 2u);
  EXPECT_NE(st.error().hint.find("after 3 attempts"), std::string::npos) << st.error().hint;
}

TEST_F(ClientTest, AThrottledWorkerPausesTheOthers) {
  answer(400, kThrottleBody);
  answer(200, "{}");
  auto shared = std::make_shared<ThrottleSignal>();
  FakeClock clock_a, clock_b;  // same epoch; b's time stands still unless b sleeps
  clock_a.u = 1.0;
  auto cfg_a = make_config(server_.url(), clock_a);
  auto cfg_b = make_config(server_.url(), clock_b);
  cfg_a->throttle = shared;
  cfg_b->throttle = shared;
  AwsClient a(cfg_a), b(cfg_b);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  ASSERT_TRUE(a.send(req, res, {"Scan", "", nullptr}).ok());
  EXPECT_EQ(clock_a.sleeps, (std::vector<milliseconds>{milliseconds(50)}));
  EXPECT_EQ(shared->paused_until(), clock_b.t + milliseconds(50));

  // b was not throttled itself, but waits out the pause before its first request.
  ASSERT_TRUE(b.send(req, res, {"Scan", "", nullptr}).ok());
  EXPECT_EQ(clock_b.sleeps, (std::vector<milliseconds>{milliseconds(50)}));
  EXPECT_EQ(script_.count, 3);
}

// Ctrl-C while a request backs off: the call ends as cancelled, not with the last throttle, and sends no
// further attempt.
TEST_F(ClientTest, ACancelDuringTheBackOffEndsTheCallAsCancelled) {
  answer(400, kThrottleBody);
  std::atomic<bool> cancel{false};
  auto cfg = make_config(server_.url(), fake_);
  cfg->cancel = &cancel;
  cfg->clock.sleep = [&](milliseconds d) {
    fake_.sleeps.push_back(d);
    cancel = true;  // the signal arrives while waiting
  };
  AwsClient client(cfg);
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"Scan", "table 't'", nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(st.error().code, "Cancelled");
  EXPECT_EQ(st.error().operation, "Scan");
  EXPECT_NE(st.error().message.find("ProvisionedThroughputExceededException"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(script_.count, 1);
  EXPECT_EQ(fake_.sleeps.size(), 1u);
}

// On the real clock: a 5 s back-off (and the shared pause it sets) is cut short within ~10 ms of the cancel.
TEST_F(ClientTest, ACancelCutsARealBackOffAndTheSharedPauseShort) {
  answer(400, kThrottleBody);
  std::atomic<bool> cancel{false};
  auto cfg = testing::test_service_config("dynamodb", server_.url());
  cfg->retry.base_delay = milliseconds(5000);
  cfg->clock.uniform01 = [] { return 1.0; };  // the whole 5 s
  cfg->cancel = &cancel;
  AwsClient client(cfg), other(cfg);  // other shares the throttle pause
  std::thread canceller([&] {
    while (script_.count < 1) std::this_thread::yield();  // the first attempt was answered
    std::this_thread::sleep_for(milliseconds(100));  // let the back-off begin (if not, the call fails alike)
    cancel = true;
  });
  HttpRequest req = dynamodb_request(server_.url(), "Scan", "{}");
  HttpResponse res;
  const auto start = std::chrono::steady_clock::now();
  Status st = client.send(req, res, {"Scan", "table 't'", nullptr});
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kCancelled);
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(script_.count, 1);

  // The pause of 5 s that the throttle set is not waited out either: a cancelled call sends nothing.
  ASSERT_GT(cfg->throttle->paused_until(), std::chrono::steady_clock::now() + milliseconds(2000));
  HttpRequest req2 = dynamodb_request(server_.url(), "Scan", "{}");
  Status st2 = other.send(req2, res, {"Scan", "table 't'", nullptr});
  EXPECT_EQ(st2.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(script_.count, 1);
}

// A cleanup call (an abort) is still sent after a cancel, retried briefly, and skips the shared pause.
TEST_F(ClientTest, ACleanupCallIsSentAfterACancelAndRetriedAtMostThreeTimes) {
  answer_xml(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");
  std::atomic<bool> cancel{true};
  auto cfg = make_config(server_.url(), fake_, "s3");
  cfg->cancel = &cancel;
  cfg->throttle->throttled_until(fake_.t + std::chrono::hours(1));
  AwsClient client(cfg);
  HttpRequest req;
  req.method = "PUT";
  req.url = server_.url() + "/bucket/key?uploadId=u";
  HttpResponse res;
  CallInfo info{"AbortMultipartUpload", "s3://bucket/key", nullptr};
  info.cleanup = true;
  Status st = client.send(req, res, info);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SlowDown");
  EXPECT_EQ(script_.count, kCleanupAttemptsWhenCancelled);
  EXPECT_EQ(fake_.sleeps.size(), 2u);  // two back-offs, no hour-long pause
}

// Against dynalite: real DynamoDB protocol, signed requests.
class ClientDynaliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = testing::test_service_config("dynamodb", testing::local_servers().dynamodb);
    cfg_->retry.max_attempts = 3;
  }
  std::shared_ptr<ServiceConfig> cfg_;
};

TEST_F(ClientDynaliteTest, ListTablesSucceedsAndPassesTheCrc32Check) {
  AwsClient client(cfg_);
  HttpRequest req = dynamodb_request(cfg_->endpoint, "ListTables", "{}");
  HttpResponse res;
  Status st = client.send(req, res, {"ListTables", "", check_dynamodb_crc32});
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("\"TableNames\""), std::string::npos) << res.body;
  // A second call on the same client (and connection) works too.
  ASSERT_TRUE(client.send(req, res, {"ListTables", "", check_dynamodb_crc32}).ok());
}

TEST_F(ClientDynaliteTest, DescribeMissingTableIsResourceNotFound) {
  AwsClient client(cfg_);
  std::string table = testing::unique_name("missing");
  std::string body = R"({"TableName":")" + table + R"("})";
  HttpRequest req = dynamodb_request(cfg_->endpoint, "DescribeTable", body);
  HttpResponse res;
  Status st = client.send(req, res, {"DescribeTable", "table '" + table + "'", check_dynamodb_crc32});
  ASSERT_FALSE(st.ok());
  const Error& e = st.error();
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.kind, ErrorKind::kClient);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_FALSE(e.message.empty());
  EXPECT_EQ(e.operation, "DescribeTable");
  EXPECT_NE(e.resource.find(table), std::string::npos);
  EXPECT_NE(e.to_string().find(table), std::string::npos);
}

}  // namespace
}  // namespace ddb2s3

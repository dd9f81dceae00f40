// Point-in-time export through the library, against the export test server (tests/support/export_server):
// full and incremental exports, ION, every option, --export-kwargs, PITR disabled or out of window, FAILED,
// timing out, no-wait then status, client token idempotency, bad times, throttling while polling, listing.
// Waiting runs on a fake clock: check intervals are counted, never slept.
#include "pitr/pitr.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "aws/session.h"
#include "support/export_server.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::ExportServer;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Time stands still except when the code under test sleeps.
struct FakeClock {
  double now = wall_now();
  std::chrono::milliseconds slept{0};
  ExportClock clock() {
    ExportClock c;
    c.now = [this] { return now; };
    c.sleep = [this](std::chrono::milliseconds d) {
      slept += d;
      now += d.count() / 1000.0;
    };
    return c;
  }
};

Environment test_env(const std::string& endpoint) {
  return Environment::from({{"AWS_ACCESS_KEY_ID", testing::kTestAccessKey},
                            {"AWS_SECRET_ACCESS_KEY", testing::kTestSecretKey},
                            {"AWS_REGION", testing::kTestRegion},
                            {"AWS_ENDPOINT_URL_DYNAMODB", endpoint},
                            {"AWS_CONFIG_FILE", "/nonexistent/ddb2s3-test/config"},
                            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ddb2s3-test/credentials"},
                            {"HOME", "/nonexistent/ddb2s3-test"}});
}

// The body of the last request of an operation, parsed.
simdjson::dom::element last_body(const ExportServer& server, const std::string& op,
                                 simdjson::dom::parser& parser) {
  std::string body;
  for (const auto& r : server.requests())
    if (r.operation == op) body = r.body;
  simdjson::dom::element doc;
  EXPECT_FALSE(parser.parse(body).get(doc)) << "no " << op << " request";
  return doc;
}

class PitrTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.add_table("orders"); }

  ExportOptions options() {
    ExportOptions o;
    o.table = "orders";
    o.s3_bucket = "exports-bucket";
    o.s3_prefix = "daily/orders";
    o.env = test_env(server_.url());
    o.clock = clock_.clock();
    return o;
  }
  ExportStatusOptions status_options(const std::string& arn) {
    ExportStatusOptions s;
    s.export_arn = arn;
    s.env = test_env(server_.url());
    s.clock = clock_.clock();
    return s;
  }
  int requests_of(const std::string& op) const {
    int n = 0;
    for (const auto& r : server_.requests()) n += r.operation == op;
    return n;
  }

  ExportServer server_;
  FakeClock clock_;
};

TEST_F(PitrTest, FullExportWaitsForCompletionPollingEveryCheckInterval) {
  server_.set_schedule({.polls_in_progress = 2});
  auto r = run_export(options());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  EXPECT_EQ(r->polls, 3);
  EXPECT_EQ(clock_.slept, std::chrono::seconds(90));  // the operator's default: 30 s between polls
  EXPECT_NEAR(r->waited_seconds, 90, 0.01);
  const ExportDescription& d = r->description;
  EXPECT_EQ(d.export_status, "COMPLETED");
  EXPECT_EQ(d.table_arn, ExportServer::table_arn("orders"));
  EXPECT_EQ(d.item_count, 1234);
  EXPECT_EQ(d.billed_size_bytes, 567890);
  EXPECT_EQ(d.s3_bucket, "exports-bucket");
  EXPECT_TRUE(std::regex_match(
      d.export_manifest, std::regex("daily/orders/AWSDynamoDB/[0-9]{14}-[0-9a-f]{8}/manifest-summary.json")))
      << d.export_manifest;
  ASSERT_TRUE(d.start_time && d.end_time);
  EXPECT_EQ(d.export_format, "DYNAMODB_JSON");
  EXPECT_NE(d.json.find("\"ExportStatus\":\"COMPLETED\""), std::string::npos) << d.json;

  simdjson::dom::parser parser;
  auto body = last_body(server_, "ExportTableToPointInTime", parser);
  EXPECT_EQ(std::string_view(body["TableArn"]), ExportServer::table_arn("orders"));
  EXPECT_EQ(std::string_view(body["S3Bucket"]), "exports-bucket");
  EXPECT_EQ(std::string_view(body["S3Prefix"]), "daily/orders");
  EXPECT_EQ(std::string_view(body["ExportFormat"]), "DYNAMODB_JSON");
  EXPECT_TRUE(body["ExportTime"].error());  // not given: DynamoDB exports as of now
  EXPECT_TRUE(body["ExportType"].error());
  // A fresh random token, as the AWS SDKs make one.
  const std::string token{std::string_view(body["ClientToken"])};
  EXPECT_TRUE(std::regex_match(
      token, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << token;
  EXPECT_EQ(r->client_token, token);
  EXPECT_EQ(requests_of("DescribeTable"), 1);
  EXPECT_EQ(requests_of("DescribeContinuousBackups"), 1);
  EXPECT_EQ(requests_of("DescribeExport"), 3);
}

TEST_F(PitrTest, ExportTimeAndIonFormatAreSentAsEpochNumberAndEnum) {
  ExportOptions o = options();
  o.export_time = std::floor(clock_.now) - 3600.25;
  o.export_format = "ION";
  o.wait_options.check_interval_seconds = 0.5;
  server_.set_schedule({.polls_in_progress = 0});
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  EXPECT_EQ(clock_.slept, std::chrono::milliseconds(500));
  simdjson::dom::parser parser;
  auto body = last_body(server_, "ExportTableToPointInTime", parser);
  ASSERT_TRUE(body["ExportTime"].is_number());
  EXPECT_DOUBLE_EQ(double(body["ExportTime"]), *o.export_time);
  EXPECT_EQ(std::string_view(body["ExportFormat"]), "ION");
  EXPECT_EQ(r->description.export_format, "ION");
  ASSERT_TRUE(r->description.export_time);
  EXPECT_DOUBLE_EQ(*r->description.export_time, *o.export_time);
}

TEST_F(PitrTest, IncrementalExportSendsTheSpecificationWithTheDefaultView) {
  ExportOptions o = options();
  o.export_type = "INCREMENTAL_EXPORT";
  o.export_from_time = std::floor(clock_.now) - 7200;
  o.export_to_time = std::floor(clock_.now) - 3600;
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  simdjson::dom::parser parser;
  auto body = last_body(server_, "ExportTableToPointInTime", parser);
  EXPECT_EQ(std::string_view(body["ExportType"]), "INCREMENTAL_EXPORT");
  EXPECT_DOUBLE_EQ(double(body["IncrementalExportSpecification"]["ExportFromTime"]), *o.export_from_time);
  EXPECT_DOUBLE_EQ(double(body["IncrementalExportSpecification"]["ExportToTime"]), *o.export_to_time);
  EXPECT_EQ(std::string_view(body["IncrementalExportSpecification"]["ExportViewType"]), "NEW_AND_OLD_IMAGES");
  EXPECT_TRUE(body["ExportTime"].error());
  ASSERT_TRUE(r->description.incremental);
  EXPECT_EQ(r->description.export_type, "INCREMENTAL_EXPORT");
  EXPECT_EQ(r->description.incremental->export_view_type, "NEW_AND_OLD_IMAGES");

  o.export_view_type = "NEW_IMAGE";
  o.client_token = "incremental-new-image";
  ASSERT_TRUE(run_export(o));
  body = last_body(server_, "ExportTableToPointInTime", parser);
  EXPECT_EQ(std::string_view(body["IncrementalExportSpecification"]["ExportViewType"]), "NEW_IMAGE");
}

TEST_F(PitrTest, S3OptionsAndClientTokenReachTheRequest) {
  ExportOptions o = options();
  o.s3_sse_algorithm = "KMS";
  o.s3_sse_kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/abcd";
  o.s3_bucket_owner = "123456789012";
  o.client_token = "airflow-run-2024-05-01";
  o.wait = false;
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kStarted);
  EXPECT_EQ(r->client_token, "airflow-run-2024-05-01");
  simdjson::dom::parser parser;
  auto body = last_body(server_, "ExportTableToPointInTime", parser);
  EXPECT_EQ(std::string_view(body["S3SseAlgorithm"]), "KMS");
  EXPECT_EQ(std::string_view(body["S3SseKmsKeyId"]), "arn:aws:kms:us-east-1:123456789012:key/abcd");
  EXPECT_EQ(std::string_view(body["S3BucketOwner"]), "123456789012");
  EXPECT_EQ(std::string_view(body["ClientToken"]), "airflow-run-2024-05-01");
  EXPECT_EQ(r->description.s3_sse_algorithm, "KMS");
  EXPECT_EQ(r->description.s3_bucket_owner, "123456789012");

  o.s3_sse_algorithm = "AES256";  // a KMS key without KMS is refused before any call
  const size_t before = server_.requests().size();
  auto bad = run_export(o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(server_.requests().size(), before);
}

TEST_F(PitrTest, ExportKwargsAsTheOperatorPassesThem) {
  ExportOptions o = options();
  const double to = std::floor(clock_.now) - 600;
  const std::string kwargs =
      R"({"ExportType":"INCREMENTAL_EXPORT","IncrementalExportSpecification":{"ExportFromTime":")" +
      format_time(to - 3600) + R"(","ExportToTime":)" + std::to_string(static_cast<int64_t>(to)) +
      R"(,"ExportViewType":"NEW_AND_OLD_IMAGES"}})";
  ASSERT_TRUE(apply_export_kwargs(kwargs, o));
  EXPECT_EQ(o.export_type, "INCREMENTAL_EXPORT");
  EXPECT_DOUBLE_EQ(*o.export_from_time, to - 3600);
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  simdjson::dom::parser parser;
  auto body = last_body(server_, "ExportTableToPointInTime", parser);
  EXPECT_DOUBLE_EQ(double(body["IncrementalExportSpecification"]["ExportFromTime"]), to - 3600);

  // A field given both ways, or one that TABLE / DEST give, is a usage error.
  ExportOptions twice = options();
  twice.export_format = "ION";
  auto e = apply_export_kwargs(R"({"ExportFormat":"DYNAMODB_JSON"})", twice);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::kUsage);
  // In the library's words: the option by its ExportOptions name, the JSON as kwargs (the CLI says flags).
  EXPECT_NE(e.error().message.find("ExportFormat is given twice: as export_format and in kwargs"),
            std::string::npos)
      << e.error().message;
  EXPECT_EQ(e.error().field, "kwargs");
  ExportOptions arn = options();
  EXPECT_FALSE(apply_export_kwargs(R"({"TableArn":"arn:aws:dynamodb:us-east-1:1:table/x"})", arn));
  EXPECT_FALSE(apply_export_kwargs(R"({"ExportTime":"yesterday"})", arn));
  EXPECT_FALSE(apply_export_kwargs("[1]", arn));

  // Unknown fields pass through verbatim; the service judges them (here: rejects them).
  ExportOptions unknown = options();
  ASSERT_TRUE(apply_export_kwargs(R"({"S3Region":"eu-west-1"})", unknown));
  EXPECT_EQ(unknown.extra_json, R"({"S3Region":"eu-west-1"})");
  auto rejected = run_export(unknown);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, "ValidationException");
  EXPECT_NE(rejected.error().message.find("S3Region"), std::string::npos);
}

TEST_F(PitrTest, ExportKwargsAreReadWholeStrictlyAndRangeChecked) {
  struct Case {
    const char* kwargs;
    const char* message;  // a part of the message
  };
  const std::vector<Case> cases = {
      {R"({"ExportFormat": "ION",)",
       "kwargs is not valid JSON: expected a member name in double quotes at byte 24"},
      {R"({"ExportFormat": "ION"} xyz)", "unexpected text after the JSON value at byte 25 (at 'xyz')"},
      {R"({"ExportTime": nan})", "'nan' is not a JSON value"},
      {R"({"ExportTime": 1714564800x})", "is not a JSON number"},
      {R"({"ExportTime": 01714564800})", "is not a JSON number"},
      {R"({"ExportFormat": "ION", "ExportFormat": "ION"})", "\"ExportFormat\" is given twice"},
      {R"({"ExportTime": 1e400})", "kwargs: ExportTime is out of range"},
      {R"({"ExportTime": 99999999999999999999})", "kwargs: ExportTime must be from 1970 to 9999"},
      {R"({"ExportTime": -5})", "kwargs: ExportTime must be from 1970 to 9999"},
      {R"({"ExportTime": "99999999999999"})", "kwargs: ExportTime must be from 1970 to 9999"},
      {R"({"IncrementalExportSpecification": {"ExportToTime": 1e300}})", "kwargs: ExportToTime must be from"},
      {R"({"ExportTime": true})", "kwargs: ExportTime must be epoch seconds or an ISO 8601 string, not true"},
      {R"({"ExportFormat": "CSV"})", "kwargs: ExportFormat must be DYNAMODB_JSON or ION, not 'CSV'"},
      {R"({"ExportType": "PARTIAL"})", "kwargs: ExportType must be FULL_EXPORT or INCREMENTAL_EXPORT"},
      {R"({"S3SseAlgorithm": "aws:kms"})", "kwargs: S3SseAlgorithm must be AES256 or KMS"},
      {R"({"IncrementalExportSpecification": {"ExportViewType": "OLD_IMAGE"}})",
       "kwargs: ExportViewType must be NEW_IMAGE or NEW_AND_OLD_IMAGES"},
      {R"({"ExportFormat": 5})", "kwargs: ExportFormat must be a string, not the number 5"},
      {"[1]", "kwargs must be a JSON object of ExportTableToPointInTime fields, not an array"},
      {R"({"TableArn": "x"})", "TableArn is given twice: as the table and in kwargs"},
      {R"({"S3Prefix": "x"})", "S3Prefix is given twice: as s3_prefix and in kwargs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kwargs);
    ExportOptions o = options();
    Status s = apply_export_kwargs(c.kwargs, o);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(s.error().field, "kwargs");
    EXPECT_NE(s.error().message.find(c.message), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("--"), std::string::npos) << s.error().message;
  }
  // Unknown fields keep their text as written: every digit, the spelling of each number.
  ExportOptions o = options();
  ASSERT_TRUE(
      apply_export_kwargs(R"({"Future": {"N": 12345678901234567890123456789012345678, "F": 1.50}})", o));
  EXPECT_EQ(o.extra_json, R"({"Future":{"N": 12345678901234567890123456789012345678, "F": 1.50}})");
  // Fractional epoch seconds and ISO strings both still work.
  ExportOptions t = options();
  ASSERT_TRUE(apply_export_kwargs(R"({"ExportTime": 1714564800.5})", t));
  EXPECT_DOUBLE_EQ(*t.export_time, 1714564800.5);
}

TEST_F(PitrTest, PointInTimeRecoveryDisabledGivesTheCommandToEnableIt) {
  server_.add_table("no-pitr", false);
  ExportOptions o = options();
  o.table = "no-pitr";
  auto r = run_export(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "PointInTimeRecoveryDisabled");
  EXPECT_NE(r.error().to_string().find(
                "aws dynamodb update-continuous-backups --table-name no-pitr "
                "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true --region us-east-1"),
            std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(requests_of("ExportTableToPointInTime"), 0);
}

TEST_F(PitrTest, FailedExportReportsFailureCodeAndMessage) {
  server_.set_schedule({.polls_in_progress = 1,
                        .fail = true,
                        .failure_code = "S3NoSuchBucket",
                        .failure_message = "The specified bucket does not exist"});
  auto r = run_export(options());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kFailed);
  EXPECT_EQ(r->description.failure_code, "S3NoSuchBucket");
  EXPECT_EQ(r->description.failure_message, "The specified bucket does not exist");
  EXPECT_EQ(r->polls, 2);
}

TEST_F(PitrTest, StillRunningAfterMaxAttemptsTimesOut) {
  server_.set_schedule({.polls_in_progress = 10});
  ExportOptions o = options();
  o.wait_options = {5, 3};
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kTimedOut);
  EXPECT_EQ(r->polls, 3);
  EXPECT_EQ(r->description.export_status, "IN_PROGRESS");
  EXPECT_EQ(clock_.slept, std::chrono::seconds(15));
  EXPECT_EQ(requests_of("DescribeExport"), 3);
}

TEST_F(PitrTest, NoWaitThenStatusThenWaitForIt) {
  server_.set_schedule({.polls_in_progress = 3});
  ExportOptions o = options();
  o.wait = false;
  auto started = run_export(o);
  ASSERT_TRUE(started) << started.error().to_string();
  EXPECT_EQ(started->state, ExportState::kStarted);
  EXPECT_EQ(requests_of("DescribeExport"), 0);
  const std::string arn = started->description.export_arn;

  auto shown = export_status(status_options(arn));  // one look: IN_PROGRESS
  ASSERT_TRUE(shown) << shown.error().to_string();
  EXPECT_EQ(shown->state, ExportState::kStarted);
  EXPECT_EQ(shown->description.export_status, "IN_PROGRESS");

  ExportStatusOptions s = status_options(arn);
  s.wait = true;
  s.wait_options = {1, 10};
  std::vector<int> attempts;
  s.on_poll = [&](const ExportPoll& p) { attempts.push_back(p.attempt); };
  auto done = export_status(s);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->state, ExportState::kCompleted);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2}));  // after a first look, two polls

  auto missing =
      export_status(status_options(ExportServer::table_arn("orders") + "/export/00000000000000-deadbeef"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ExportNotFoundException");
  auto not_arn = export_status(status_options("orders"));
  ASSERT_FALSE(not_arn);
  EXPECT_EQ(not_arn.error().kind, ErrorKind::kUsage);
}

// The ARN's region names the endpoint when no region is set: it must be a region name, said to be the ARN's.
TEST_F(PitrTest, AnExportArnWhoseRegionIsNotARegionNameIsAUsageErrorNamingTheArn) {
  for (const std::string region : {"ev.il/", "EU-WEST-1", "eu-west-1\r\nX-Injected: 1"}) {
    SCOPED_TRACE(region);
    auto r = export_status(status_options("arn:aws:dynamodb:" + region + ":123456789012:table/t/export/01"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_NE(r.error().message.find("export ARN"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find_first_of("\r\n"), std::string::npos);
  }
  EXPECT_EQ(requests_of("DescribeExport"), 0);
}

TEST_F(PitrTest, SameClientTokenReattachesToTheSameExport) {
  ExportOptions o = options();
  o.client_token = "scheduler-run-42";
  o.wait = false;
  auto first = run_export(o);
  auto second = run_export(o);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->description.export_arn, second->description.export_arn);
  EXPECT_EQ(server_.exports_created(), 1);

  o.export_format = "ION";  // the same token with other parameters is refused
  auto mismatch = run_export(o);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, "IdempotentParameterMismatchException");
  EXPECT_NE(mismatch.error().hint.find("another client_token"), std::string::npos) << mismatch.error().hint;
  EXPECT_EQ(mismatch.error().field, "client_token");
  EXPECT_EQ(server_.exports_created(), 1);

  o.client_token.clear();  // without a token every run starts a new export
  ASSERT_TRUE(run_export(o));
  ASSERT_TRUE(run_export(o));
  EXPECT_EQ(server_.exports_created(), 3);
}

TEST_F(PitrTest, BadTimesAreRefusedBeforeAnyCall) {
  const double now = std::floor(clock_.now);
  struct Case {
    const char* what;
    std::function<void(ExportOptions&)> set;
    const char* message;
    const char* field = "";  // the option at fault, as its ExportOptions member
  };
  const std::vector<Case> cases = {
      {"future export time", [&](ExportOptions& o) { o.export_time = now + 60; }, "in the future",
       "export_time"},
      {"from after to",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 3600;
         o.export_to_time = now - 7200;
       },
       "export_from_time (", "export_from_time"},
      {"window under 15 minutes",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 3600;
         o.export_to_time = now - 3600 + 14 * 60;
       },
       "at least 15 minutes", "export_to_time"},
      {"window over 24 hours",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 2 * 86400;
         o.export_to_time = now - 86400 + 1;
       },
       "at most 24 hours", "export_from_time"},
      {"to in the future",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 3600;
         o.export_to_time = now + 3600;
       },
       "in the future", "export_to_time"},
      {"incremental without to",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 3600;
       },
       "needs export_from_time and export_to_time", "export_to_time"},
      {"from without incremental", [&](ExportOptions& o) { o.export_from_time = now - 3600; },
       "use export_type INCREMENTAL_EXPORT", "export_type"},
      {"export time with incremental",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = now - 7200;
         o.export_to_time = now - 3600;
         o.export_time = now - 3600;
       },
       "not export_time", "export_time"},
      {"time past 9999", [&](ExportOptions& o) { o.export_time = 1e20; }, "from 1970 to 9999", "export_time"},
      {"negative from",
       [&](ExportOptions& o) {
         o.export_type = "INCREMENTAL_EXPORT";
         o.export_from_time = -1;
         o.export_to_time = now - 3600;
       },
       "export_from_time must be from 1970 to 9999", "export_from_time"},
      {"no attempts", [&](ExportOptions& o) { o.wait_options.max_attempts = 0; },
       "max_attempts must be at least 1", "max_attempts"},
      {"check interval over a day", [&](ExportOptions& o) { o.wait_options.check_interval_seconds = 86401; },
       "check_interval_seconds must be from 0 to 86400", "check_interval_seconds"},
      {"kms key without kms",
       [&](ExportOptions& o) {
         o.s3_sse_algorithm = "AES256";
         o.s3_sse_kms_key_id = "k";
       },
       "s3_sse_kms_key_id needs s3_sse_algorithm KMS", "s3_sse_kms_key_id"},
  };
  for (const Case& c : cases) {
    ExportOptions o = options();
    c.set(o);
    auto r = run_export(o);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage) << c.what;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << c.what << ": " << r.error().message;
    if (*c.field != '\0') {
      EXPECT_EQ(r.error().field, c.field) << c.what;
    }
    EXPECT_EQ(r.error().to_string().find("--"), std::string::npos)
        << c.what << ": no CLI flag in a library error";
  }
  EXPECT_TRUE(server_.requests().empty());

  // Exactly 15 minutes and exactly 24 hours are allowed.
  for (double span : {kMinIncrementalSeconds, kMaxIncrementalSeconds}) {
    ExportOptions o = options();
    o.export_type = "INCREMENTAL_EXPORT";
    o.export_to_time = now - 600;
    o.export_from_time = now - 600 - span;
    o.wait = false;
    auto r = run_export(o);
    EXPECT_TRUE(r) << r.error().to_string();
  }
}

TEST_F(PitrTest, TimesOutsideThePointInTimeRecoveryWindowAreRefusedBeforeExporting) {
  const double now = std::floor(clock_.now);
  server_.add_table("recent", true, now - 2 * 3600, now - 300);
  ExportOptions o = options();
  o.table = "recent";
  o.export_time = now - 3 * 3600;
  auto r = run_export(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InvalidExportTime");
  EXPECT_NE(r.error().message.find("outside the table's point-in-time recovery window"), std::string::npos);

  o.export_time = now - 120;  // after LatestRestorableDateTime
  EXPECT_FALSE(run_export(o));

  ExportOptions inc = options();
  inc.table = "recent";
  inc.export_type = "INCREMENTAL_EXPORT";
  inc.export_from_time = now - 3 * 3600;
  inc.export_to_time = now - 2 * 3600;
  auto ri = run_export(inc);
  ASSERT_FALSE(ri);
  EXPECT_NE(ri.error().message.find("export_from_time"), std::string::npos) << ri.error().message;
  EXPECT_EQ(ri.error().field, "export_from_time");
  EXPECT_EQ(requests_of("ExportTableToPointInTime"), 0);
  EXPECT_EQ(requests_of("DescribeContinuousBackups"), 3);
}

TEST_F(PitrTest, ThrottlingWhilePollingIsRetried) {
  server_.set_schedule({.polls_in_progress = 2});
  ExportOptions o = options();
  o.on_started = [&](const ExportOutcome&) { server_.throttle_next(3, "ThrottlingException"); };
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  EXPECT_EQ(r->polls, 3);  // the client's own retries absorbed the throttling
  int throttled = 0;
  for (const auto& req : server_.requests()) throttled += req.error_code == "ThrottlingException";
  EXPECT_EQ(throttled, 3);
}

TEST_F(PitrTest, PollsThatStayThrottledAreLostButWaitingGoesOn) {
  server_.set_schedule({.polls_in_progress = 1});
  ExportOptions o = options();
  o.session.max_attempts = 1;  // no retries inside a call: each throttled answer fails one poll
  o.on_started = [&](const ExportOutcome&) {
    server_.throttle_next(2, "ProvisionedThroughputExceededException");
  };
  int failed_polls = 0;
  o.on_poll = [&](const ExportPoll& p) { failed_polls += p.error != nullptr; };
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCompleted);
  EXPECT_EQ(failed_polls, 2);
  EXPECT_EQ(r->polls, 4);
}

TEST_F(PitrTest, CancelStopsWaitingButNotTheExport) {
  server_.set_schedule({.polls_in_progress = 50});
  std::atomic<bool> cancel{false};
  ExportOptions o = options();
  o.cancel = &cancel;
  o.on_poll = [&](const ExportPoll& p) {
    if (p.attempt == 2) cancel = true;
  };
  auto r = run_export(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->state, ExportState::kCancelled);
  EXPECT_EQ(r->polls, 2);
  EXPECT_EQ(r->description.export_status, "IN_PROGRESS");
}

TEST_F(PitrTest, ListsExportsNewestFirstAcrossPages) {
  ExportOptions o = options();
  o.wait = false;
  std::vector<std::string> arns;
  for (int i = 0; i < 27; ++i) {  // more than one ListExports page (25)
    auto r = run_export(o);
    ASSERT_TRUE(r) << r.error().to_string();
    arns.push_back(r->description.export_arn);
  }
  server_.add_table("other");
  o.table = "other";
  ASSERT_TRUE(run_export(o));
  auto list = list_table_exports("orders", {}, test_env(server_.url()));
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 27u);
  for (size_t i = 0; i < arns.size(); ++i) {
    EXPECT_EQ((*list)[i].export_arn, arns[arns.size() - 1 - i]);
    EXPECT_EQ((*list)[i].export_status, "IN_PROGRESS");
    EXPECT_EQ((*list)[i].export_type, "FULL_EXPORT");
  }
  EXPECT_EQ(requests_of("ListExports"), 2);
}

TEST(PitrTime, ParsesIso8601WithZoneAndEpochSeconds) {
  EXPECT_DOUBLE_EQ(*parse_time("2024-05-01T12:00:00Z"), 1714564800);
  EXPECT_DOUBLE_EQ(*parse_time("2024-05-01T14:00:00+02:00"), 1714564800);
  EXPECT_DOUBLE_EQ(*parse_time("2024-05-01T07:30:00-0430"), 1714564800);
  EXPECT_DOUBLE_EQ(*parse_time("2024-05-01 12:00:00.250Z"), 1714564800.25);
  EXPECT_DOUBLE_EQ(*parse_time("2024-05-01T12:00Z"), 1714564800);
  EXPECT_DOUBLE_EQ(*parse_time("1714564800"), 1714564800);
  EXPECT_DOUBLE_EQ(*parse_time("1714564800.5"), 1714564800.5);
  for (const char* bad :
       {"", "2024-05-01T12:00:00", "2024-05-01", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z", "yesterday", "1.2.3", "2024-05-01T12:00:00Zjunk", "-5"}) {
    auto t = parse_time(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().kind, ErrorKind::kUsage) << bad;
  }
  EXPECT_NE(parse_time("2024-05-01T12:00:00").error().message.find("no zone"), std::string::npos);
  EXPECT_EQ(format_time(1714564800), "2024-05-01T12:00:00Z");
  EXPECT_EQ(format_time(1714564800.25), "2024-05-01T12:00:00.250Z");
  EXPECT_EQ(arn_region("arn:aws:dynamodb:eu-west-1:123456789012:table/t/export/1-a"), "eu-west-1");
  EXPECT_EQ(arn_region("orders"), "");
}

// The test server holds requests to the API reference's shapes: what the client never sends is checked here.
TEST_F(PitrTest, TestServerRejectsRequestsThatBreakTheApiShapes) {
  auto config = make_service_config("dynamodb", {}, test_env(server_.url()));
  ASSERT_TRUE(config) << config.error().to_string();
  (*config)->retry.max_attempts = 1;
  AwsClient client(*config);
  auto send = [&](const std::string& op, const std::string& body) {
    HttpRequest req;
    req.method = "POST";
    req.url = server_.url() + "/";
    req.set_header("Content-Type", "application/x-amz-json-1.0");
    req.set_header("X-Amz-Target", "DynamoDB_20120810." + op);
    req.body = body;
    HttpResponse res;
    CallInfo info;
    info.operation = op;
    Status s = client.send(req, res, info);
    return s ? std::string("OK") : s.error().code + ": " + s.error().message;
  };
  const std::string arn = ExportServer::table_arn("orders");
  EXPECT_EQ(send("ExportTableToPointInTime", R"({"S3Bucket":"my-bucket"})").rfind("ValidationException: ", 0),
            0u);
  EXPECT_NE(send("ExportTableToPointInTime", R"({"S3Bucket":"my-bucket"})").find("'TableArn'"),
            std::string::npos);
  EXPECT_NE(
      send("ExportTableToPointInTime", R"({"TableArn":")" + arn + R"(","S3Bucket":"my-bucket","Bucket":"x"})")
          .find("Unknown field 'Bucket'"),
      std::string::npos);
  EXPECT_NE(
      send("ExportTableToPointInTime", R"({"TableArn":")" + arn + R"(","S3Bucket":"my-bucket","S3Prefix":5})")
          .find("must be a string"),
      std::string::npos);
  EXPECT_NE(
      send("ExportTableToPointInTime",
           R"({"TableArn":")" + arn + R"(","S3Bucket":"my-bucket","ExportTime":"2024-05-01T12:00:00Z"})")
          .find("epoch seconds as a JSON number"),
      std::string::npos);
  EXPECT_NE(send("ExportTableToPointInTime",
                 R"({"TableArn":")" + arn +
                     R"(","S3Bucket":"my-bucket","IncrementalExportSpecification":{"ExportFromTime":"x"}})")
                .find("IncrementalExportSpecification.ExportFromTime"),
            std::string::npos);
  EXPECT_NE(send("ExportTableToPointInTime",
                 R"({"TableArn":")" + arn + R"(","S3Bucket":"my-bucket","ExportFormat":"CSV"})")
                .find("enum value set"),
            std::string::npos);
  EXPECT_NE(
      send("ExportTableToPointInTime", R"({"TableArn":")" + arn + R"(","S3Bucket":"b"})").find("pattern"),
      std::string::npos);
  EXPECT_NE(send("ListExports", R"({"MaxResults":26})").find("between 1 and 25"), std::string::npos);
  EXPECT_NE(send("DescribeExport", "{}").find("'ExportArn'"), std::string::npos);
  EXPECT_EQ(send("ListExports", "{}"), "OK");
  EXPECT_EQ(send("ExportTableToPointInTime",
                 R"({"TableArn":")" + arn + R"(","S3Bucket":"my-bucket","ExportType":"INCREMENTAL_EXPORT"})")
                .rfind("ValidationException", 0),
            0u);
  EXPECT_EQ(send("Scan", R"({"TableName":"orders"})").rfind("UnknownOperationException", 0), 0u);
}

}  // namespace
}  // namespace ddb2s3

// `ddb2s3 export`, `export-status` and `exports` as a user runs them: the built binary in a child process
// against the export test server on loopback, with only the environment given here (temp HOME, test keys).
// --check-interval 0 keeps waiting instant; the server moves exports on by counting polls.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pitr/pitr.h"
#include "support/export_server.h"
#include "support/process.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::ExportServer;

using Outcome = testing::ProcessOutcome;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct UsageCase {
  std::vector<std::string> args;  // after `export orders s3://exports-bucket`, or a whole command
  std::vector<std::string> says;  // parts of the message
};

class PitrCliTest : public ::testing::Test {
 protected:
  // `export orders s3://exports-bucket ARGS` exits 2 with each part of the message; returns what it printed.
  auto expect_usage_error(const UsageCase& c) {
    std::vector<std::string> args = {"export", "orders", "s3://exports-bucket"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto o = run(args);
    EXPECT_EQ(o.exit_code, 2) << o.err;
    for (const auto& part : c.says) EXPECT_NE(o.err.find(part), std::string::npos) << o.err;
    return o;
  }

  void SetUp() override {
    ASSERT_FALSE(home_.path().empty());
    server_.add_table("orders");
  }

  std::map<std::string, std::string> env() const {
    return {{"AWS_ACCESS_KEY_ID", testing::kTestAccessKey},
            {"AWS_SECRET_ACCESS_KEY", testing::kTestSecretKey},
            {"AWS_REGION", testing::kTestRegion},
            {"AWS_ENDPOINT_URL_DYNAMODB", server_.url()},
            {"HOME", home_.path()}};
  }

  // Runs ddb2s3 with args to the end; stdout and stderr through files, stdin /dev/null.
  Outcome run(const std::vector<std::string>& args, std::map<std::string, std::string> vars = {}) {
    if (vars.empty()) vars = env();
    return testing::run_process(testing::ddb2s3_argv(args), vars);
  }

  std::string last_body(const std::string& op) const {
    std::string body;
    for (const auto& r : server_.requests())
      if (r.operation == op) body = r.body;
    return body;
  }
  int requests_of(const std::string& op) const {
    int n = 0;
    for (const auto& r : server_.requests()) n += r.operation == op;
    return n;
  }

  testing::TempDir home_;
  ExportServer server_;
};

std::string iso(double t) { return format_time(std::floor(t)); }

TEST_F(PitrCliTest, FullExportWaitsAndPrintsTheExportDescriptionAsJson) {
  server_.set_schedule({.polls_in_progress = 2});
  auto o = run({"export", "orders", "s3://exports-bucket/daily", "--check-interval", "0", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  simdjson::dom::parser parser;
  simdjson::dom::element d;
  ASSERT_FALSE(parser.parse(o.out).get(d)) << o.out;
  EXPECT_EQ(std::string_view(d["ExportStatus"]), "COMPLETED");
  EXPECT_EQ(std::string_view(d["S3Bucket"]), "exports-bucket");
  EXPECT_EQ(std::string_view(d["S3Prefix"]), "daily");
  EXPECT_EQ(int64_t(d["ItemCount"]), 1234);
  EXPECT_EQ(std::string_view(d["TableArn"]), ExportServer::table_arn("orders"));
  EXPECT_EQ(requests_of("DescribeExport"), 3);
  // A random client token, and how to reuse it.
  EXPECT_NE(o.err.find("(random): to retry without starting a second export, pass --client-token"),
            std::string::npos)
      << o.err;
}

// Ctrl-C between two polls of a long --check-interval stops waiting at once (the export goes on in AWS).
TEST_F(PitrCliTest, CtrlCBetweenPollsStopsWaitingAtOnce) {
  server_.set_schedule({.polls_in_progress = 50});
  testing::ChildProcess child(
      testing::ddb2s3_argv({"export", "orders", "s3://exports-bucket/p", "--check-interval", "600"}), env());
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (server_.succeeded("ExportTableToPointInTime") < 1 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling another process's progress
  ASSERT_EQ(server_.succeeded("ExportTableToPointInTime"), 1);
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(child.pid(), SIGINT), 0);
  Outcome o = child.wait();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(3)) << o.err;  // not 600 s
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_NE(o.err.find("interrupted: export arn:aws:dynamodb:"), std::string::npos) << o.err;
  EXPECT_EQ(requests_of("DescribeExport"), 0);
}

TEST_F(PitrCliTest, HumanSummaryNamesArnStatusItemsSizeS3AndTimes) {
  auto o = run({"export", "orders", "s3://exports-bucket/p", "--check-interval", "0"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  for (const char* line :
       {"status      COMPLETED", "items       1,234", "billed size 567.9 KB",
        "s3          s3://exports-bucket/p", "manifest    s3://exports-bucket/p/AWSDynamoDB/", "started     ",
        "ended       ", "export      arn:aws:dynamodb:us-east-1:"})
    EXPECT_NE(o.out.find(line), std::string::npos) << line << "\n" << o.out;
  EXPECT_EQ(o.err.find("\033[K"), std::string::npos);  // no progress line when stderr is not a terminal
}

TEST_F(PitrCliTest, EveryOptionOfAnIncrementalIonExportReachesTheRequest) {
  const double to = std::floor(wall_now()) - 600;
  auto o = run({"export",
                "orders",
                "s3://exports-bucket/inc/",
                "--incremental",
                "--from",
                iso(to - 3600),
                "--to",
                std::to_string(static_cast<int64_t>(to)),
                "--view",
                "NEW_IMAGE",
                "--export-format",
                "ION",
                "--sse",
                "KMS",
                "--sse-kms-key-id",
                "alias/exports",
                "--expected-bucket-owner",
                "123456789012",
                "--client-token",
                "run-2024-05-01",
                "--check-interval",
                "0.001",
                "--max-attempts",
                "5",
                "--endpoint-url",
                server_.url()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  simdjson::dom::parser parser;
  simdjson::dom::element b;
  ASSERT_FALSE(parser.parse(last_body("ExportTableToPointInTime")).get(b));
  EXPECT_EQ(std::string_view(b["ExportType"]), "INCREMENTAL_EXPORT");
  EXPECT_DOUBLE_EQ(double(b["IncrementalExportSpecification"]["ExportFromTime"]), to - 3600);
  EXPECT_DOUBLE_EQ(double(b["IncrementalExportSpecification"]["ExportToTime"]), to);
  EXPECT_EQ(std::string_view(b["IncrementalExportSpecification"]["ExportViewType"]), "NEW_IMAGE");
  EXPECT_EQ(std::string_view(b["ExportFormat"]), "ION");
  EXPECT_EQ(std::string_view(b["S3SseAlgorithm"]), "KMS");
  EXPECT_EQ(std::string_view(b["S3SseKmsKeyId"]), "alias/exports");
  EXPECT_EQ(std::string_view(b["S3BucketOwner"]), "123456789012");
  EXPECT_EQ(std::string_view(b["ClientToken"]), "run-2024-05-01");
  EXPECT_EQ(std::string_view(b["S3Prefix"]), "inc/");
  EXPECT_NE(o.out.find("INCREMENTAL_EXPORT, ION"), std::string::npos) << o.out;
  EXPECT_NE(
      o.err.find("client token run-2024-05-01: within 8 hours, the same command with this token reattaches"),
      std::string::npos)
      << o.err;
}

TEST_F(PitrCliTest, ExportKwargsAsTheOperatorsIncrementalExample) {
  const double to = std::floor(wall_now()) - 600;
  const std::string kwargs =
      R"({"ExportType":"INCREMENTAL_EXPORT","IncrementalExportSpecification":{"ExportFromTime":")" +
      iso(to - 7200) + R"(","ExportToTime":")" + iso(to) + R"(","ExportViewType":"NEW_AND_OLD_IMAGES"}})";
  auto o = run(
      {"export", "orders", "s3://exports-bucket/inc", "--export-kwargs", kwargs, "--check-interval", "0"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  simdjson::dom::parser parser;
  simdjson::dom::element b;
  ASSERT_FALSE(parser.parse(last_body("ExportTableToPointInTime")).get(b));
  EXPECT_DOUBLE_EQ(double(b["IncrementalExportSpecification"]["ExportFromTime"]), to - 7200);

  const size_t before = server_.requests().size();
  auto twice = run({"export", "orders", "s3://exports-bucket", "--export-format", "ION", "--export-kwargs",
                    R"({"ExportFormat":"ION"})"});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("ExportFormat is given twice: as --export-format and in --export-kwargs"),
            std::string::npos)
      << twice.err;
  EXPECT_EQ(server_.requests().size(), before);
}

TEST_F(PitrCliTest, PointInTimeRecoveryDisabledSaysHowToEnableIt) {
  server_.add_table("no-pitr", false);
  auto o = run({"export", "no-pitr", "s3://exports-bucket", "--region", "eu-west-1"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(
      o.err.find("aws dynamodb update-continuous-backups --table-name no-pitr "
                 "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true --region eu-west-1"),
      std::string::npos)
      << o.err;
  EXPECT_EQ(requests_of("ExportTableToPointInTime"), 0);
}

TEST_F(PitrCliTest, FailedExportExitsOneWithFailureCodeAndMessage) {
  server_.set_schedule({.polls_in_progress = 0,
                        .fail = true,
                        .failure_code = "S3AccessDenied",
                        .failure_message = "Access Denied to s3://exports-bucket"});
  auto o = run({"export", "orders", "s3://exports-bucket", "--check-interval", "0"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("FAILED: S3AccessDenied: Access Denied to s3://exports-bucket"), std::string::npos)
      << o.err;
  EXPECT_NE(o.out.find("failure     S3AccessDenied"), std::string::npos) << o.out;
}

// The failure message is the server's text: printed with its control bytes escaped, so it cannot forge
// a line of the terminal or clear it.
TEST_F(PitrCliTest, AFailureMessageWithControlCharactersIsPrintedEscaped) {
  server_.set_schedule({.polls_in_progress = 0,
                        .fail = true,
                        .failure_code = "S3AccessDenied",
                        .failure_message = "denied\nddb2s3: export COMPLETED\x1b[2J"});
  auto o = run({"export", "orders", "s3://exports-bucket", "--check-interval", "0"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find(R"(FAILED: S3AccessDenied: denied\x0addb2s3: export COMPLETED\x1b[2J)"), std::string::npos)
      << o.err;
  EXPECT_EQ(o.err.find("\x1b"), std::string::npos) << o.err;
  EXPECT_EQ(o.out.find("\x1b"), std::string::npos) << o.out;
  EXPECT_EQ(o.err.find("\nddb2s3: export COMPLETED"), std::string::npos) << o.err;
}

TEST_F(PitrCliTest, TimeoutAfterMaxAttemptsGivesTheArnAndTheCommandToResume) {
  server_.set_schedule({.polls_in_progress = 100});
  auto o = run({"export", "orders", "s3://exports-bucket", "--check-interval", "0", "--max-attempts", "4",
                "--endpoint-url", server_.url()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(requests_of("DescribeExport"), 4);
  const std::string arn_prefix = ExportServer::table_arn("orders") + "/export/";
  const size_t at = o.err.find("ddb2s3 export-status " + arn_prefix);
  ASSERT_NE(at, std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--wait --endpoint-url " + server_.url(), at), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("still IN_PROGRESS after 4 polls"), std::string::npos) << o.err;
}

TEST_F(PitrCliTest, NoWaitThenExportStatusThenWait) {
  server_.set_schedule({.polls_in_progress = 2});
  auto started = run({"export", "orders", "s3://exports-bucket", "--no-wait"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  ASSERT_FALSE(started.out.empty());
  const std::string arn = started.out.substr(0, started.out.find('\n'));
  EXPECT_EQ(arn.rfind(ExportServer::table_arn("orders") + "/export/", 0), 0u) << arn;
  EXPECT_EQ(requests_of("DescribeExport"), 0);

  auto shown = run({"export-status", arn});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("status      IN_PROGRESS"), std::string::npos) << shown.out;

  // Without AWS_REGION: export-status takes the region from the ARN.
  auto vars = env();
  vars.erase("AWS_REGION");
  auto waited = run({"export-status", arn, "--wait", "--check-interval", "0", "--json"}, vars);
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_NE(waited.out.find("\"ExportStatus\":\"COMPLETED\""), std::string::npos) << waited.out;

  auto missing =
      run({"export-status", ExportServer::table_arn("orders") + "/export/00000000000000-00000000"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("ExportNotFoundException"), std::string::npos) << missing.err;
}

TEST_F(PitrCliTest, RepeatedCommandWithTheSameClientTokenReattaches) {
  server_.set_schedule({.polls_in_progress = 100});
  const std::vector<std::string> args = {"export",         "orders",    "s3://exports-bucket",
                                         "--client-token", "dag-run-7", "--no-wait"};
  auto first = run(args);
  auto second = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_EQ(server_.exports_created(), 1);

  auto other = run({"export", "orders", "s3://exports-bucket/elsewhere", "--client-token", "dag-run-7"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("IdempotentParameterMismatchException"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("use another --client-token"), std::string::npos) << other.err;
  EXPECT_EQ(server_.exports_created(), 1);
}

TEST_F(PitrCliTest, BadTimesAreUsageErrorsBeforeAnyCall) {
  const double now = std::floor(wall_now());
  const std::vector<std::vector<std::string>> cases = {
      {"--export-time", "2999-01-01T00:00:00Z"},
      {"--export-time", "2024-05-01T12:00:00"},
      {"--export-time", "tomorrow"},
      {"--incremental", "--from", iso(now - 3600), "--to", iso(now - 3000)},
      {"--incremental", "--from", iso(now - 90000), "--to", iso(now - 600)},
      {"--incremental", "--from", iso(now - 3600), "--to", iso(now - 7200)},
      {"--from", iso(now - 7200), "--to", iso(now - 3600)},
      {"--sse", "AES256", "--sse-kms-key-id", "k"},
      {"--max-attempts", "0"},
      {"--check-interval", "-1"},
  };
  for (const auto& extra : cases) {
    std::vector<std::string> args = {"export", "orders", "s3://exports-bucket"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto o = run(args);
    EXPECT_EQ(o.exit_code, 2) << extra[0] << " " << extra[1] << ": " << o.err;
  }
  EXPECT_TRUE(server_.requests().empty());

  // Inside the format rules but outside the table's PITR window: refused after DescribeContinuousBackups.
  server_.add_table("recent", true, now - 3600, now - 300);
  auto o = run({"export", "recent", "s3://exports-bucket", "--export-time", iso(now - 7200)});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("--export-time " + iso(now - 7200) +
                       " is outside the table's point-in-time recovery window"),
            std::string::npos)
      << o.err;
  auto inc = run({"export", "recent", "s3://exports-bucket", "--incremental", "--from", iso(now - 7200),
                  "--to", iso(now - 3600)});
  EXPECT_EQ(inc.exit_code, 1);
  EXPECT_NE(inc.err.find("--from " + iso(now - 7200) + " is outside"), std::string::npos) << inc.err;
  EXPECT_EQ(requests_of("ExportTableToPointInTime"), 0);
}

TEST_F(PitrCliTest, OutOfRangeNumbersAndMalformedKwargsAreUsageErrorsNamingTheFlag) {
  const std::vector<UsageCase> cases = {
      {{"--max-attempts", "0"}, {"--max-attempts must be an integer from 1 to 2147483647, not '0'"}},
      {{"--max-attempts", "4294967297"}, {"--max-attempts must be an integer from 1 to 2147483647"}},
      {{"--max-attempts", "2.5"}, {"--max-attempts must be an integer"}},
      {{"--check-interval", "-1"},
       {"--check-interval must be a number of seconds from 0 to 86400, not '-1'"}},
      {{"--check-interval", "86401"}, {"--check-interval must be a number of seconds from 0 to 86400"}},
      {{"--check-interval", "nan"}, {"--check-interval must be a number of seconds"}},
      {{"--check-interval", "1e999"}, {"--check-interval must be a number of seconds"}},
      {{"--export-time", "99999999999999"}, {"--export-time must be from 1970 to 9999"}},
      {{"--export-kwargs", R"({"ExportTime": 99999999999999})"},
       {"--export-kwargs: ExportTime must be from 1970 to 9999"}},
      {{"--export-kwargs", R"({"ExportTime": 1e999})"}, {"--export-kwargs: ExportTime is out of range"}},
      {{"--export-kwargs", R"({"IncrementalExportSpecification": {"ExportFromTime": -1}})"},
       {"--export-kwargs: ExportFromTime must be from 1970 to 9999"}},
      {{"--export-kwargs", R"({"ExportFormat": "ION",)"},
       {"--export-kwargs is not valid JSON: expected a member name in double quotes at byte 24"}},
      {{"--export-kwargs", R"({"ExportTime": nan})"},
       {"--export-kwargs is not valid JSON: 'nan' is not a JSON value"}},
      {{"--export-kwargs", R"({"ExportFormat": "ION"} x)"},
       {"--export-kwargs is not valid JSON: unexpected text"}},
      {{"--export-kwargs", R"({"ExportFormat": "CSV"})"},
       {"--export-kwargs: ExportFormat must be DYNAMODB_JSON or ION"}},
      {{"--export-kwargs", R"({"S3Prefix": "x"})"},
       {"S3Prefix is given twice: as s3://BUCKET/PREFIX and in --export-kwargs"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[1]);
    auto o = expect_usage_error(c);
  }
  for (const char* bad : {"0", "-3", "99999999999"}) {
    auto o = run(
        {"export-status", ExportServer::table_arn("orders") + "/export/x", "--wait", "--max-attempts", bad});
    EXPECT_EQ(o.exit_code, 2) << o.err;
    EXPECT_NE(o.err.find("--max-attempts must be an integer from 1"), std::string::npos) << o.err;
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(PitrCliTest, LibraryErrorsNameTheFlags) {
  // pitr names options by their ExportOptions members (pitr_test); the binary says its flags.
  const double now = std::floor(wall_now());
  const std::vector<UsageCase> cases = {
      {{"--from", iso(now - 7200), "--to", iso(now - 3600)},
       {"--from, --to and --view are for incremental exports: use --incremental"}},
      {{"--incremental", "--from", iso(now - 7200)}, {"an incremental export needs --from and --to"}},
      {{"--incremental", "--from", iso(now - 7200), "--to", iso(now - 3600), "--export-time",
        iso(now - 7200)},
       {"an incremental export takes --from and --to, not --export-time"}},
      {{"--incremental", "--from", iso(now - 3600), "--to", iso(now - 3000)},
       {"at least 15 minutes (--from " + iso(now - 3600) + " to --to " + iso(now - 3000) + " is shorter)"}},
      {{"--incremental", "--from", iso(now - 3600), "--to", iso(now - 7200)},
       {"--from (", ") must be before --to ("}},
      {{"--incremental", "--from", iso(now - 3600), "--to", iso(now + 3600)},
       {"--to " + iso(now + 3600) + " is in"}},
      {{"--export-time", iso(now + 3600)}, {"--export-time " + iso(now + 3600) + " is in the future"}},
      {{"--sse", "AES256", "--sse-kms-key-id", "k"}, {"--sse-kms-key-id needs --sse KMS"}},
      {{"--export-format", "ION", "--export-kwargs", R"({"ExportFormat": "ION"})"},
       {"ExportFormat is given twice: as --export-format and in --export-kwargs; keep one"}},
      {{"--incremental", "--from", iso(now - 7200), "--export-kwargs",
        R"({"IncrementalExportSpecification": {"ExportFromTime": 1}})"},
       {"ExportFromTime is given twice: as --from and in --export-kwargs"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[1]);
    auto o = expect_usage_error(c);
    for (const char* library_name :
         {"export_", "s3_sse", "in kwargs", "max_attempts", "check_interval_seconds"})
      EXPECT_EQ(o.err.find(library_name), std::string::npos) << o.err;
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(PitrCliTest, ThrottlingWhilePollingIsRetried) {
  server_.set_schedule({.polls_in_progress = 1});
  // DescribeTable, DescribeContinuousBackups and ExportTableToPointInTime pass; the polls are throttled.
  server_.throttle_next(3, "ProvisionedThroughputExceededException", 3);
  auto o = run({"export", "orders", "s3://exports-bucket", "--check-interval", "0"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  int throttled = 0;
  for (const auto& r : server_.requests())
    throttled += r.operation == "DescribeExport" && r.error_code == "ProvisionedThroughputExceededException";
  EXPECT_EQ(throttled, 3);
  EXPECT_EQ(server_.succeeded("DescribeExport"), 2);
}

TEST_F(PitrCliTest, ExportsListsNewestFirst) {
  std::vector<std::string> arns;
  for (int i = 0; i < 3; ++i) {
    auto o = run({"export", "orders", "s3://exports-bucket", "--no-wait"});
    ASSERT_EQ(o.exit_code, 0) << o.err;
    arns.push_back(o.out.substr(0, o.out.find('\n')));
  }
  auto list = run({"exports", "orders"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const size_t a = list.out.find(arns[2]), b = list.out.find(arns[1]), c = list.out.find(arns[0]);
  ASSERT_NE(c, std::string::npos) << list.out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(list.out.find("IN_PROGRESS  FULL_EXPORT"), std::string::npos) << list.out;
  auto json = run({"exports", "orders", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out.rfind("[{\"ExportArn\":\"" + arns[2] + "\",\"ExportStatus\":\"IN_PROGRESS\"", 0), 0u)
      << json.out;

  server_.add_table("empty");
  auto none = run({"exports", "empty"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_TRUE(none.out.empty());
  EXPECT_NE(none.err.find("has no exports"), std::string::npos);
}

}  // namespace
}  // namespace ddb2s3

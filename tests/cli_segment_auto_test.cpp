// `ddb2s3 scan --segment auto` as an array job runs it: one binary per index with only the scheduler's
// variable telling them apart, against real dynalite and s3rver, then finalize; and the usage errors a
// user sees when the job and the scan do not fit together (exit 2, no AWS call), in flag words.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "scan/scan.h"
#include "support/process.h"
#include "support/scan_fixtures.h"

namespace ddb2s3 {
namespace {

using testing::Json;
using testing::LocalAws;
using testing::TestItem;
using Outcome = testing::ProcessOutcome;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string member(const Json& j, std::string_view name) {
  const Json* v = j.find(name);
  return v != nullptr ? v->text : "<no " + std::string(name) + ">";
}

// A loopback port where nothing listens: any AWS call made there fails to connect (exit 1, not 2).
std::string closed_endpoint() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(port);
}

class SegmentAutoTest : public ::testing::Test {
 protected:
  // ddb2s3 with the servers' environment plus `extra` (the scheduler's variables).
  Outcome ddb2s3(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> env = aws_.env_vars();
    for (const auto& [k, v] : extra) env[k] = v;
    return testing::run_process(testing::ddb2s3_argv(args), env);
  }
  std::vector<std::string> scan_args(const std::string& table, const std::string& dest,
                                     const std::vector<std::string>& extra) const {
    return aws_.scan_argv(table, dest, extra);
  }
  std::multiset<std::string> stored_ids(const std::string& dest, const std::string& run_id) {
    std::multiset<std::string> ids;
    auto d = Destination::parse(dest);
    EXPECT_TRUE(d);
    auto lines = testing::read_run_lines(aws_, *d, run_id, Compression::kGzip);
    EXPECT_TRUE(lines) << lines.error().message;
    if (!lines) return ids;
    for (const auto& line : *lines) {
      auto j = testing::parse_json(line);
      const Json* id = j ? j->find("id") : nullptr;
      ids.insert(id ? id->text : "<no id in " + line + ">");
    }
    return ids;
  }

  LocalAws aws_;
};

// Each ways of giving the total: after --segment auto, before it, and as TotalSegments in --scan-kwargs.
TEST_F(SegmentAutoTest, EachIndexScansItsSegmentThenFinalizeCompletesTheRun) {
  const std::vector<TestItem> items = testing::simple_items(120, 20);
  std::multiset<std::string> expected;
  for (const auto& i : items) expected.insert(i.id);
  const std::string table = aws_.make_table("auto", items);
  const std::string bucket = aws_.make_bucket("auto");
  struct Way {
    const char* variable;
    std::vector<std::string> flags;
  };
  const std::vector<Way> ways = {
      {"JOB_COMPLETION_INDEX", {"--segment", "auto", "--total-segments", "3"}},
      {"AWS_BATCH_JOB_ARRAY_INDEX", {"--total-segments", "3", "--segment", "auto"}},
      {"SLURM_ARRAY_TASK_ID", {"--segment", "auto", "--scan-kwargs", R"({"TotalSegments": 3})"}},
  };
  for (const Way& way : ways) {
    SCOPED_TRACE(way.variable);
    const std::string run_id = std::string("run-") + way.variable;
    const std::string dest = "s3://" + bucket + "/auto";
    for (int index = 0; index < 3; ++index) {
      std::vector<std::string> flags = way.flags;
      for (const char* f : {"--run-id", run_id.c_str(), "--page-size", "10", "--json"}) flags.push_back(f);
      Outcome r = ddb2s3(scan_args(table, dest, flags), {{way.variable, std::to_string(index)}});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto s = testing::parse_json(r.out);
      ASSERT_TRUE(s) << r.out;
      EXPECT_EQ(member(*s, "segment"), std::to_string(index)) << r.out;
      EXPECT_EQ(member(*s, "segmentManifestKey"),
                "auto/" + run_id + "/segments/" + std::to_string(index) + ".json");
    }
    Outcome fin =
        ddb2s3({"finalize", dest, "--run-id", run_id, "--dest-endpoint-url", aws_.s3_endpoint(), "--json"});
    ASSERT_EQ(fin.exit_code, 0) << fin.err;
    auto s = testing::parse_json(fin.out);
    ASSERT_TRUE(s) << fin.out;
    EXPECT_EQ(member(*s, "itemCount"), std::to_string(items.size()));
    EXPECT_EQ(member(*s, "totalSegments"), "3");
    EXPECT_EQ(stored_ids(dest, run_id), expected);
  }
}

TEST_F(SegmentAutoTest, TheHumanSummaryShowsTheResolvedIndex) {
  const std::string table = aws_.make_table("auto-text", testing::simple_items(10, 10));
  const std::string bucket = aws_.make_bucket("auto-text");
  Outcome r = ddb2s3(scan_args(table, "s3://" + bucket + "/p",
                               {"--segment", "auto", "--total-segments", "4", "--run-id", "shown"}),
                     {{"JOB_COMPLETION_INDEX", "2"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "segment 2 of run shown done: p/shown/segments/2.json")) << r.err;
}

TEST_F(SegmentAutoTest, AJobThatDoesNotFitTheScanIsAUsageErrorBeforeAnyAwsCall) {
  const std::string closed = closed_endpoint();
  struct Case {
    std::vector<std::string> flags;
    std::map<std::string, std::string> env;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {{"--segment", "auto", "--total-segments", "3", "--run-id", "r"},
       {},
       {"--segment 'auto': none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), AWS_BATCH_JOB_ARRAY_INDEX "
        "(AWS Batch array job) or SLURM_ARRAY_TASK_ID (Slurm job array) is set"}},
      {{"--segment", "auto", "--total-segments", "3", "--run-id", "r"},
       {{"JOB_COMPLETION_INDEX", "3"}},
       {"--segment 'auto': JOB_COMPLETION_INDEX='3' is out of range: --segment must be from 0 to "
        "--total-segments - 1 (2)",
        "must equal --total-segments"}},
      // --total-segments forgotten: one segment, so only index 0 fits.
      {{"--segment", "auto", "--run-id", "r"},
       {{"AWS_BATCH_JOB_ARRAY_INDEX", "1"}},
       {"AWS_BATCH_JOB_ARRAY_INDEX='1' is out of range", "(0)"}},
      {{"--segment", "auto", "--total-segments", "3", "--run-id", "r"},
       {{"SLURM_ARRAY_TASK_ID", "one"}},
       {"SLURM_ARRAY_TASK_ID='one' is not an index"}},
      {{"--segment", "auto", "--total-segments", "3", "--run-id", "r"},
       {{"JOB_COMPLETION_INDEX", "0"}, {"SLURM_ARRAY_TASK_ID", "1"}},
       {"JOB_COMPLETION_INDEX='0' and SLURM_ARRAY_TASK_ID='1' disagree"}},
      {{"--segment", "auto", "--total-segments", "3"},
       {{"JOB_COMPLETION_INDEX", "1"}},
       {"--segment needs --run-id"}},
      {{"--segment", "auto", "--total-segments", "3", "--run-id", "r", "--scan-kwargs", R"({"Segment": 1})"},
       {{"JOB_COMPLETION_INDEX", "1"}},
       {"Segment is given twice: by --segment and in --scan-kwargs"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.says.front());
    std::vector<std::string> args = {
        "scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--dest-endpoint-url", closed};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    Outcome r = ddb2s3(args, c.env);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : c.says) EXPECT_TRUE(contains(r.err, part)) << r.err;
    EXPECT_FALSE(contains(r.err, "total_segments")) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(SegmentAutoTest, HelpSaysAutoAndItsVariables) {
  Outcome r = ddb2s3({"scan", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "--segment INT|auto")) << r.out;
  for (const char* name : {"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"})
    EXPECT_TRUE(contains(r.out, name)) << r.out;
}

}  // namespace
}  // namespace ddb2s3

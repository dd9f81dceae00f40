// The ddb2s3 binary end to end, as a user runs it: subprocesses against real dynalite and s3rver, with
// only the environment given here (temp HOME, the servers' credentials). Exit codes, messages, the
// --json summary, Scan flags and --scan-kwargs, a scan shared by concurrent processes and finalize.
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
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::Json;
using testing::LocalAws;
using testing::parse_json;
using testing::read_run_lines;
using testing::TempDir;
using testing::TestItem;

using Outcome = testing::ProcessOutcome;

// One ddb2s3 process whose environment is exactly `env`.
class Ddb2s3Process : public testing::ChildProcess {
 public:
  Ddb2s3Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
      : ChildProcess(testing::ddb2s3_argv(args), env) {}
};

// A loopback port where nothing listens: any AWS call made there fails to connect.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

Json parse_or_fail(std::string_view text) {
  auto j = parse_json(text);
  EXPECT_TRUE(j) << j.error().message;
  return j ? *j : Json{};
}

uint64_t number_member(const Json& j, std::string_view name) {
  const Json* v = j.find(name);
  if (v == nullptr || !v->is(Json::Kind::kNumber)) {
    ADD_FAILURE() << name << " is not a number in the JSON";
    return ~0ull;
  }
  return std::stoull(v->text);
}

std::string string_member(const Json& j, std::string_view name) {
  const Json* v = j.find(name);
  return v != nullptr ? v->text : "<no " + std::string(name) + ">";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CliTest : public ::testing::Test {
 protected:
  Outcome ddb2s3(const std::vector<std::string>& args) { return Ddb2s3Process(args, aws_.env_vars()).wait(); }

  // `scan TABLE DEST` against the local servers, then the extra arguments.
  std::vector<std::string> scan_args(const std::string& table, const std::string& dest,
                                     const std::vector<std::string>& extra = {}) const {
    return aws_.scan_argv(table, dest, extra);
  }
  std::vector<std::string> finalize_args(const std::string& dest, const std::string& run_id) const {
    return {"finalize", dest, "--run-id", run_id, "--dest-endpoint-url", aws_.s3_endpoint()};
  }

  Destination dest_of(const std::string& text) {
    auto d = Destination::parse(text);
    EXPECT_TRUE(d) << d.error().to_string();
    return d ? *d : Destination{};
  }

  // The ids of a run's items, with a count of lines that were not new ids.
  std::multiset<std::string> run_ids(const std::string& dest, const std::string& run_id, OutputFormat format,
                                     Compression compression) {
    std::multiset<std::string> ids;
    auto lines = read_run_lines(aws_, dest_of(dest), run_id, compression);
    EXPECT_TRUE(lines) << lines.error().message;
    if (!lines) return ids;
    for (const auto& line : *lines) {
      Json j = parse_or_fail(line);
      const Json* item = format == OutputFormat::kDynamoDbJson ? j.find("Item") : &j;
      const Json* id = item ? item->find("id") : nullptr;
      if (id && format == OutputFormat::kDynamoDbJson) id = id->find("S");
      ids.insert(id ? id->text : "<no id>");
    }
    return ids;
  }

  bool summary_exists(const std::string& dest, const std::string& run_id) {
    auto text = aws_.read(dest_of(dest), run_id + "/manifest-summary.json");
    EXPECT_TRUE(text) << text.error().to_string();
    return text && text->has_value();
  }

  LocalAws aws_;
};

std::multiset<std::string> ids_of(const std::vector<TestItem>& items) {
  std::multiset<std::string> ids;
  for (const auto& i : items) ids.insert(i.id);
  return ids;
}

TEST_F(CliTest, ScanWritesEveryItemAndPrintsAJsonSummary) {
  const std::vector<TestItem> items = testing::every_type_items();
  const std::string table = aws_.make_table("cli-json", items);
  const std::string bucket = aws_.make_bucket("cli-json");
  const std::string dest = "s3://" + bucket + "/exports/x";
  Outcome r = ddb2s3(scan_args(table, dest,
                               {"--json", "--format", "dynamodb-json", "--compression", "zstd", "--file-size",
                                "300", "--page-size", "5"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json s = parse_or_fail(r.out);
  EXPECT_EQ(number_member(s, "itemCount"), items.size());
  const Json* files = s.find("files");
  ASSERT_NE(files, nullptr) << r.out;
  ASSERT_TRUE(files->is(Json::Kind::kArray));
  EXPECT_GT(files->elements.size(), 1u) << "a small --file-size rolls several files";
  EXPECT_EQ(number_member(s, "fileCount"), files->elements.size());
  uint64_t in_files = 0;
  for (const Json& f : files->elements) {
    EXPECT_TRUE(string_member(f, "key").ends_with(".json.zst")) << string_member(f, "key");
    in_files += number_member(f, "itemCount");
  }
  EXPECT_EQ(in_files, items.size());
  const std::string run_id = string_member(s, "runId");
  EXPECT_EQ(string_member(s, "manifestSummaryKey"), "exports/x/" + run_id + "/manifest-summary.json");
  EXPECT_EQ(string_member(s, "table"), table);

  auto lines = read_run_lines(aws_, dest_of(dest), run_id, Compression::kZstd);
  ASSERT_TRUE(lines) << lines.error().message;
  ASSERT_EQ(lines->size(), items.size());
  std::map<std::string, std::string> expected;
  for (const auto& i : items) expected[i.id] = testing::canonical_typed_item(parse_or_fail(i.expected));
  for (const auto& line : *lines) {
    Json j = parse_or_fail(line);
    const Json* item = j.find("Item");
    ASSERT_NE(item, nullptr) << line;
    const Json* id = item->find("id");
    ASSERT_TRUE(id && id->find("S")) << line;
    EXPECT_EQ(testing::canonical_typed_item(*item), expected[id->find("S")->text]);
  }
}

TEST_F(CliTest, ThreeConcurrentSegmentProcessesThenFinalize) {
  const std::vector<TestItem> items = testing::simple_items(300, 30);
  const std::string table = aws_.make_table("cli-shared", items);
  const std::string bucket = aws_.make_bucket("cli-shared");
  const std::string dest = "s3://" + bucket + "/shared";
  const std::string run_id = "cli-run-3";
  uint64_t scan_bytes = 0, pages = 0;
  {
    std::vector<std::unique_ptr<Ddb2s3Process>> procs;
    for (int segment = 0; segment < 3; ++segment)
      procs.push_back(std::make_unique<Ddb2s3Process>(
          scan_args(table, dest,
                    {"--segment", std::to_string(segment), "--total-segments", "3", "--run-id", run_id,
                     "--page-size", "20", "--file-size", "2000", "--json"}),
          aws_.env_vars()));
    for (int segment = 0; segment < 3; ++segment) {
      Outcome r = procs[segment]->wait();
      ASSERT_EQ(r.exit_code, 0) << "segment " << segment << ": " << r.err;
      Json s = parse_or_fail(r.out);
      EXPECT_EQ(number_member(s, "segment"), static_cast<uint64_t>(segment));
      EXPECT_EQ(string_member(s, "segmentManifestKey"),
                "shared/" + run_id + "/segments/" + std::to_string(segment) + ".json");
      scan_bytes += number_member(s, "scanBytes");
      pages += number_member(s, "pages");
    }
  }
  EXPECT_FALSE(summary_exists(dest, run_id)) << "segments alone do not complete the run";

  Outcome fin = ddb2s3([&] {
    auto a = finalize_args(dest, run_id);
    a.push_back("--json");
    return a;
  }());
  ASSERT_EQ(fin.exit_code, 0) << fin.err;
  Json s = parse_or_fail(fin.out);
  EXPECT_EQ(number_member(s, "itemCount"), items.size());
  EXPECT_EQ(number_member(s, "totalSegments"), 3u);
  // What the segments scanned, summed from their manifests (finalize reported 0 before).
  EXPECT_GT(scan_bytes, 0u);
  EXPECT_EQ(number_member(s, "scanBytes"), scan_bytes);
  EXPECT_EQ(number_member(s, "pages"), pages);
  EXPECT_GT(std::stod(string_member(s, "seconds")), 0.0) << fin.out;
  EXPECT_EQ(run_ids(dest, run_id, OutputFormat::kJsonl, Compression::kGzip), ids_of(items));

  auto summary = aws_.read(dest_of(dest), run_id + "/manifest-summary.json");
  ASSERT_TRUE(summary && summary->has_value());
  Json m = parse_or_fail(**summary);
  EXPECT_EQ(number_member(m, "itemCount"), items.size());
  EXPECT_EQ(number_member(m, "totalSegments"), 3u);
  EXPECT_EQ(number_member(m, "fileCount"), s.find("files")->elements.size());
  auto files = aws_.read(dest_of(dest), run_id + "/manifest-files.json");
  ASSERT_TRUE(files && files->has_value());
  auto lines = testing::split_lines(**files);
  ASSERT_TRUE(lines);
  uint64_t total = 0;
  for (const auto& l : *lines) total += number_member(parse_or_fail(l), "itemCount");
  EXPECT_EQ(total, items.size());

  // The run is complete now: neither finalize nor a scan may write it again.
  Outcome again = ddb2s3(finalize_args(dest, run_id));
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_TRUE(contains(again.err, "already complete")) << again.err;
  Outcome rescan = ddb2s3(scan_args(table, dest, {"--run-id", run_id}));
  EXPECT_EQ(rescan.exit_code, 1) << rescan.err;
  EXPECT_TRUE(contains(rescan.err, "already complete")) << rescan.err;
  EXPECT_TRUE(contains(rescan.err, "choose another --run-id")) << rescan.err;
}

TEST_F(CliTest, FinalizeNamesTheMissingSegmentOrTheEmptyRun) {
  const std::vector<TestItem> items = testing::simple_items(50, 10);
  const std::string table = aws_.make_table("cli-missing", items);
  const std::string bucket = aws_.make_bucket("cli-missing");
  const std::string dest = "s3://" + bucket + "/p";
  for (int segment : {0, 1}) {
    Outcome r = ddb2s3(
        scan_args(table, dest,
                  {"--segment", std::to_string(segment), "--total-segments", "3", "--run-id", "half", "-q"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "--quiet";
  }
  Outcome fin = ddb2s3(finalize_args(dest, "half"));
  EXPECT_EQ(fin.exit_code, 1);
  EXPECT_TRUE(contains(fin.err, "missing 1 of 3 segments: 2")) << fin.err;
  // The library's hint, in flag words.
  EXPECT_TRUE(contains(fin.err, "run those segments (--segment I, --total-segments 3, --run-id 'half')"))
      << fin.err;
  EXPECT_EQ(fin.out, "");
  EXPECT_FALSE(summary_exists(dest, "half"));

  Outcome none = ddb2s3(finalize_args(dest, "never-ran"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(contains(none.err, "'never-ran'")) << none.err;
  EXPECT_TRUE(contains(none.err, "s3://" + bucket + "/p/never-ran/segments/")) << none.err;
  EXPECT_TRUE(contains(none.err, "check the destination and --run-id")) << none.err;
}

TEST_F(CliTest, ScanFlagsAndScanKwargs) {
  const std::vector<TestItem> items = testing::simple_items(80, 10);
  const std::string table = aws_.make_table("cli-fields", items, /*with_index=*/true);
  const std::string bucket = aws_.make_bucket("cli-fields");
  std::multiset<std::string> even, odd, from_50;
  for (int i = 0; i < 80; ++i) {
    (i % 2 ? odd : even).insert(items[i].id);
    if (i >= 50) from_50.insert(items[i].id);
  }
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::multiset<std::string> ids;
    std::set<std::string> attributes;  // every item has exactly these
    uint64_t min_pages = 1;
  };
  const std::set<std::string> all_attributes = {"id", "n", "g", "pad"};
  const std::vector<Case> cases = {
      {"flags",
       {"--filter", "#g = :g", "--names", R"({"#g":"g"})", "--values", R"({":g":"even"})", "--projection",
        "id, #g, n", "--consistent-read", "--page-size", "7"},
       even,
       {"id", "g", "n"},
       12},
      {"plain number value",
       {"--filter", "n >= :min", "--values", R"({":min": 50})"},
       from_50,
       all_attributes},
      {"index flag", {"--index", "by-g"}, ids_of(items), all_attributes},
      {"kwargs",
       {"--scan-kwargs", R"({"FilterExpression":"#g = :g","ExpressionAttributeNames":{"#g":"g"},)"
                         R"("ExpressionAttributeValues":{":g":{"S":"odd"}},"ProjectionExpression":"id, n",)"
                         R"("ConsistentRead":true,"Limit":9,"IndexName":"by-g"})"},
       odd,
       {"id", "n"},
       5},
      {"kwargs legacy ScanFilter",
       {"--scan-kwargs",
        R"({"ScanFilter":{"n":{"AttributeValueList":[{"N":"50"}],"ComparisonOperator":"GE"}},)"
        R"("AttributesToGet":["id","g"]})"},
       from_50,
       {"id", "g"}},
      {"kwargs with flags for other fields",
       {"--filter", "g = :g", "--scan-kwargs", R"({"ExpressionAttributeValues":{":g":{"S":"even"}}})"},
       even,
       all_attributes},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dest = "s3://" + bucket + "/case" + std::to_string(n++);
    Outcome r = ddb2s3(scan_args(table, dest, [&] {
      auto a = c.args;
      a.insert(a.end(), {"--json", "--compression", "none"});
      return a;
    }()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json s = parse_or_fail(r.out);
    EXPECT_EQ(number_member(s, "itemCount"), c.ids.size());
    EXPECT_GE(number_member(s, "pages"), c.min_pages);
    auto lines = read_run_lines(aws_, dest_of(dest), string_member(s, "runId"), Compression::kNone);
    ASSERT_TRUE(lines) << lines.error().message;
    std::multiset<std::string> ids;
    for (const auto& line : *lines) {
      Json j = parse_or_fail(line);
      std::set<std::string> names;
      for (const auto& [k, v] : j.members) names.insert(k);
      EXPECT_EQ(names, c.attributes) << line;
      ids.insert(string_member(j, "id"));
    }
    EXPECT_EQ(ids, c.ids);
  }
}

TEST_F(CliTest, AFieldGivenTwiceIsAUsageError) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port());
  struct Case {
    std::vector<std::string> args;
    std::string flag, field;
  };
  const std::vector<Case> cases = {
      {{"--filter", "a = :v", "--scan-kwargs", R"({"FilterExpression":"b = :v"})"},
       "--filter",
       "FilterExpression"},
      {{"--page-size", "5", "--scan-kwargs", R"({"Limit":6})"}, "--page-size", "Limit"},
      {{"--index", "i", "--scan-kwargs", R"({"IndexName":"j"})"}, "--index", "IndexName"},
      {{"--consistent-read", "--scan-kwargs", R"({"ConsistentRead":false})"},
       "--consistent-read",
       "ConsistentRead"},
      {{"--values", R"({":v":1})", "--scan-kwargs", R"({"ExpressionAttributeValues":{":v":{"N":"2"}}})"},
       "--values",
       "ExpressionAttributeValues"},
      {{"--total-segments", "4", "--scan-kwargs", R"({"TotalSegments":4})"},
       "--total-segments",
       "TotalSegments"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    std::vector<std::string> args = {
        "scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--dest-endpoint-url", closed};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Outcome r = ddb2s3(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, c.flag)) << r.err;
    EXPECT_TRUE(contains(r.err, c.field)) << r.err;
    EXPECT_TRUE(contains(r.err, "--scan-kwargs")) << r.err;
  }
}

TEST_F(CliTest, BadOptionValuesExitTwoWithoutCallingAws) {
  // Endpoints where nothing listens: exit 2 shows that no call was tried (a call would fail with 1).
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port());
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"--file-size", "0"}, "size"},
      {{"--file-size", "lots"}, "lots"},
      {{"--format", "x"}, "--format"},
      {{"--compression", "lz4"}, "--compression"},
      {{"--segment", "0", "--total-segments", "3"}, "--run-id"},
      {{"--segment", "3", "--total-segments", "3", "--run-id", "r1"}, "--segment"},
      {{"--compression-level", "9"}, "9"},
      {{"--compression", "gzip", "--compression-level", "9"}, "9"},
      {{"--run-id", "a/b"}, "--run-id"},
      {{"--scan-kwargs", "[1,2]"}, "--scan-kwargs"},
      {{"--values", "{\":v\": }"}, "--values"},
      {{"--no-such-flag"}, "--no-such-flag"},
      {{"--sse-kms-key-id", "k"}, "--sse-kms-key-id"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {
        "scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--dest-endpoint-url", closed};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(c.args.front() + (c.args.size() > 1 ? " " + c.args[1] : ""));
    Outcome r = ddb2s3(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, c.mentions)) << r.err;
    EXPECT_EQ(r.out, "");
  }
  // The same command with good options does try the closed endpoint, and fails with 1.
  auto env = aws_.env_vars();
  env["AWS_MAX_ATTEMPTS"] = "1";
  Outcome r = Ddb2s3Process({"scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed,
                             "--dest-endpoint-url", closed},
                            env)
                  .wait();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // finalize without --run-id is a usage error too.
  Outcome fin = ddb2s3({"finalize", "s3://some-bucket/p", "--dest-endpoint-url", closed});
  EXPECT_EQ(fin.exit_code, 2) << fin.err;
  EXPECT_TRUE(contains(fin.err, "--run-id")) << fin.err;
}

// A scan command against endpoints where nothing listens: exit 2 shows that no call was tried.
std::vector<std::string> closed_scan(const std::vector<std::string>& extra) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port());
  std::vector<std::string> args = {
      "scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--dest-endpoint-url", closed};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

struct UsageCase {
  std::vector<std::string> args;
  std::vector<std::string> says;  // parts of the message
};

TEST_F(CliTest, OutOfRangeIntegersAreUsageErrorsNamingTheFlagOrField) {
  const std::vector<UsageCase> cases = {
      {{"--total-segments", "4294967297"},
       {"--total-segments must be an integer from 1 to 1000000, not '4294967297'"}},
      {{"--total-segments", "0"}, {"--total-segments must be an integer from 1 to 1000000, not '0'"}},
      {{"--total-segments", "1000001"}, {"--total-segments must be an integer from 1 to 1000000"}},
      {{"--segment", "-1", "--total-segments", "3", "--run-id", "r"},
       {"--segment must be an integer from 0 to 999999"}},
      {{"--segment", "4294967296", "--total-segments", "3", "--run-id", "r"},
       {"--segment must be an integer"}},
      {{"--page-size", "0"}, {"--page-size must be an integer from 1 to 2147483647, not '0'"}},
      {{"--page-size", "2147483648"}, {"--page-size must be an integer from 1 to 2147483647"}},
      {{"--parallelism", "0"}, {"--parallelism must be an integer from 1 to 1000000"}},
      {{"--parallelism", "4294967297"}, {"--parallelism must be an integer from 1 to 1000000"}},
      {{"--compression-level", "4294967297"}, {"--compression-level must be an integer from 0 to 19"}},
      {{"--compression-level", "x"}, {"--compression-level must be an integer from 0 to 19, not 'x'"}},
      // Ran as 1 segment before: narrowed to int without a check.
      {{"--scan-kwargs", R"({"TotalSegments":4294967297})"},
       {"--scan-kwargs: TotalSegments must be an integer from 1 to 1000000, not '4294967297'"}},
      {{"--scan-kwargs", R"({"Segment":-1,"TotalSegments":2})"},
       {"--scan-kwargs: Segment must be an integer"}},
      {{"--scan-kwargs", R"({"Segment":2,"TotalSegments":2})"},
       {"--scan-kwargs: Segment must be from 0 to TotalSegments - 1 (1), not 2"}},
      {{"--scan-kwargs", R"({"Limit":4294967297})"},
       {"--scan-kwargs: Limit must be an integer from 1 to 2147483647"}},
      {{"--scan-kwargs", R"({"Limit":0})"}, {"--scan-kwargs: Limit must be an integer from 1 to 2147483647"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.front() + " " + c.args[1]);
    Outcome r = ddb2s3(closed_scan(c.args));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : c.says) EXPECT_TRUE(contains(r.err, part)) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

// A bad endpoint URL or region from a flag is named by that flag (it said "from the command line", which
// does not tell the source side from the destination).
TEST_F(CliTest, BadEndpointsAndRegionsAreUsageErrorsNamingTheirFlag) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port());
  const std::vector<UsageCase> cases = {
      {{"scan", "t", "s3://some-bucket/p", "--source-endpoint-url", "http://", "--dest-endpoint-url", closed},
       {"endpoint URL 'http://' from --source-endpoint-url has no host name"}},
      {{"scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--source-region", "ev.il/"},
       {"invalid region 'ev.il/' from --source-region"}},
      {{"finalize", "s3://some-bucket/p", "--run-id", "r", "--dest-endpoint-url", "http://a b"},
       {"endpoint URL 'http://a b' from --dest-endpoint-url holds white space"}},
      {{"finalize", "s3://some-bucket/p", "--run-id", "r", "--dest-endpoint-url", closed, "--dest-region",
        "us-east-1\r\nX: y"},
       {"invalid region 'us-east-1\\x0d\\x0aX: y' from --dest-region"}},
      {{"export", "t", "s3://some-bucket/p", "--endpoint-url", "ftp://x"},
       {"endpoint URL 'ftp://x' from --endpoint-url must start with http:// or https://"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[c.args.size() - 1]);
    Outcome r = ddb2s3(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : c.says) EXPECT_TRUE(contains(r.err, part)) << r.err;
    EXPECT_FALSE(contains(r.err, "command line")) << r.err;
  }
}

TEST_F(CliTest, MalformedJsonArgumentsAreUsageErrorsSayingWhere) {
  const std::vector<UsageCase> cases = {
      // Aborted with an uncaught simdjson_error (SIGABRT, exit 134).
      {{"--values", R"({":x": nan})"},
       {"--values is not valid JSON: 'nan' is not a JSON value", "at byte 8"}},
      {{"--values", R"({":x": nul})"}, {"--values is not valid JSON: 'nul' is not a JSON value"}},
      // Copied as raw tokens into the request.
      {{"--values", R"({":x": 1x})"}, {"--values is not valid JSON: '1x' is not a JSON number", "at byte 8"}},
      {{"--values", R"({":x": 01})"}, {"'01' is not a JSON number"}},
      {{"--values", R"({":x": -})"}, {"'-' is not a JSON number"}},
      {{"--values", R"({":x": 1.})"}, {"'1.' is not a JSON number"}},
      {{"--values", R"({":x": .5})"}, {"'.5' is not a JSON number"}},
      {{"--values", "{\":x\": 1\\}"}, {"is not a JSON number"}},
      {{"--values", "{\":x\": 1\x01}"}, {"is not a JSON number"}},
      // Trailing text was accepted.
      {{"--values", R"({":a":5} xyz)"},
       {"--values is not valid JSON: unexpected text after the JSON value at byte 10"}},
      {{"--scan-kwargs", R"({"Limit":5} xyz)"}, {"--scan-kwargs is not valid JSON: unexpected text"}},
      {{"--names", R"({"#s":"status"} xyz)"}, {"--names is not valid JSON: unexpected text"}},
      // Said only "must be a JSON object".
      {{"--scan-kwargs", R"({"Limit": 5,)"},
       {"--scan-kwargs is not valid JSON: expected a member name in double quotes at byte 13 (the text ends "
        "after "
        "'{\"Limit\": 5,')"}},
      // Passed through unchecked.
      {{"--names", R"({"#s": 5})"}, {"--names: '#s' must be a string (an attribute name), not the number 5"}},
      {{"--names", R"(["status"])"}, {"--names must be a JSON object of strings"}},
      {{"--scan-kwargs", R"({"ExpressionAttributeNames":{"#s":null}})"},
       {"--scan-kwargs: ExpressionAttributeNames: '#s' must be a string"}},
      // The library reads these; the CLI names its flag.
      {{"--s3-extra-args", R"({"ACL": })"}, {"--s3-extra-args is not valid JSON: ", "at byte 9"}},
      {{"--s3-extra-args", R"({"StorageClass": 1})"},
       {"--s3-extra-args: StorageClass must be a string, not the number 1"}},
      {{"--s3-extra-args", R"({"ACL": "private"} x)"},
       {"--s3-extra-args is not valid JSON: unexpected text"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.front() + " " + c.args[1]);
    Outcome r = ddb2s3(closed_scan(c.args));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : c.says) EXPECT_TRUE(contains(r.err, part)) << r.err;
    EXPECT_FALSE(contains(r.err, "extra_args")) << r.err;
  }
}

TEST_F(CliTest, LibraryErrorsNameTheFlags) {
  // The library names options by their ScanOptions members (scan_test); the binary says its flags.
  const std::vector<UsageCase> cases = {
      {{"--segment", "1", "--total-segments", "3"}, {"--segment needs --run-id"}},
      {{"--segment", "3", "--total-segments", "3", "--run-id", "r1"},
       {"--segment must be from 0 to --total-segments - 1 (2), not 3"}},
      {{"--compression-level", "9"},
       {"--compression-level 9 is out of range for gzip", "ISA-L gzip levels are 0 to 3"}},
      {{"--compression", "zstd", "--compression-level", "0"},
       {"--compression-level 0 is out of range for zstd"}},
      {{"--compression", "none", "--compression-level", "1"},
       {"--compression-level does not apply to --compression none"}},
      {{"--run-id", "a/b"}, {"--run-id 'a/b' may only hold letters"}},
      {{"--run-id", "segment/run_id"}, {"--run-id 'segment/run_id' may only hold"}},  // the value as given
      {{"--scan-kwargs", R"({"Segment":1})", "--total-segments", "3"}, {"--segment needs --run-id"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.front() + " " + c.args[1]);
    Outcome r = ddb2s3(closed_scan(c.args));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : c.says) EXPECT_TRUE(contains(r.err, part)) << r.err;
    for (const char* library_name :
         {"total_segments", "compression_level", "run_id '", "run_id:", "file_size"})
      EXPECT_FALSE(contains(r.err, library_name)) << r.err;
  }
}

TEST_F(CliTest, FailuresExitOneWithTheServersMessage) {
  const std::string table = aws_.make_table("cli-fail", testing::simple_items(20, 10));
  const std::string bucket = aws_.make_bucket("cli-fail");
  const std::string dest = "s3://" + bucket + "/f";
  {
    Outcome r = ddb2s3(scan_args("no-such-table-cli", dest, {"--run-id", "t1"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "ResourceNotFoundException")) << r.err;
    EXPECT_TRUE(contains(r.err, "no-such-table-cli")) << r.err;
    EXPECT_FALSE(summary_exists(dest, "t1"));
  }
  {
    Outcome r = ddb2s3(scan_args(table, "s3://no-such-bucket-cli/x"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "NoSuchBucket")) << r.err;
    EXPECT_TRUE(contains(r.err, "no-such-bucket-cli")) << r.err;
  }
  {
    Outcome r = ddb2s3(scan_args(table, dest, {"--filter", "n >", "--run-id", "t3"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "ValidationException")) << r.err;
    EXPECT_TRUE(contains(r.err, "FilterExpression")) << r.err;
    EXPECT_FALSE(summary_exists(dest, "t3"));
  }
  {
    auto env = aws_.env_vars();
    env["AWS_ACCESS_KEY_ID"] = "UNKNOWNKEY";  // s3rver knows only S3RVER
    Outcome r = Ddb2s3Process(scan_args(table, dest, {"--run-id", "t4"}), env).wait();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "403")) << r.err;
    EXPECT_TRUE(contains(r.err, "credentials")) << r.err;
    EXPECT_FALSE(summary_exists(dest, "t4"));
  }
  {
    // No credentials anywhere: the message says so, no secret is printed.
    auto env = aws_.env_vars();
    env.erase("AWS_ACCESS_KEY_ID");
    env.erase("AWS_SECRET_ACCESS_KEY");
    Outcome r = Ddb2s3Process(scan_args(table, dest, {"--run-id", "t5"}), env).wait();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "credentials")) << r.err;
  }
}

TEST_F(CliTest, LocalDirectoryDestination) {
  const std::vector<TestItem> items = testing::simple_items(40, 10);
  const std::string table = aws_.make_table("cli-local", items);
  TempDir dir;
  const std::string dest = dir.path() + "/out";
  Outcome r = ddb2s3(scan_args(table, dest, {"--run-id", "r1", "--compression", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "40 items")) << r.err;
  EXPECT_TRUE(contains(r.err, "run r1 complete")) << r.err;
  EXPECT_EQ(run_ids(dest, "r1", OutputFormat::kJsonl, Compression::kNone), ids_of(items));
  auto manifest = aws_.read(dest_of(dest), "r1/manifest-files.json");
  ASSERT_TRUE(manifest && manifest->has_value());
  auto lines = testing::split_lines(**manifest);
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ(string_member(parse_or_fail(lines->front()), "dataFileS3Key"), "r1/data/0000-00000.json");
  EXPECT_TRUE(summary_exists(dest, "r1"));
}

}  // namespace
}  // namespace ddb2s3

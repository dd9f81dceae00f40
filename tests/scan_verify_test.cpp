// verify_run() and `ddb2s3 verify` against runs made by run_scan() in s3rver and in a local directory (items
// from dynalite): good runs pass, in both formats and every compression; damaged ones (a changed byte, a
// missing file, an extra file in data/, a wrong item count) fail naming the file and what is wrong, from the
// listing alone where it can tell, and with --deep from the bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "aws/session.h"
#include "base/digest.h"
#include "s3/s3.h"
#include "scan/scan.h"
#include "scan/verify.h"
#include "support/process.h"
#include "support/scan_fixtures.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;
using testing::Json;
using testing::LocalAws;
using testing::TempDir;
using testing::TestItem;

std::vector<TestItem> test_items() {
  std::vector<TestItem> items = testing::every_type_items();
  for (TestItem& i : testing::simple_items(150, 60)) items.push_back(std::move(i));
  return items;
}

// Every problem as "key|problem" lines, for messages.
std::string problems_of(const VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems)
    out += p.key + " | " + p.problem + " | " + p.expected + " | " + p.found + "\n";
  return out.empty() ? "(no problem)" : out;
}

// The problem about key (a suffix of the problem's key) that starts with what; null when none.
const VerifyProblem* find_problem(const VerifyReport& r, const std::string& key, const std::string& what) {
  for (const auto& p : r.problems)
    if (p.key.ends_with(key) && p.problem.starts_with(what)) return &p;
  return nullptr;
}

class ScanVerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    aws_ = new LocalAws();
    items_ = new std::vector<TestItem>(test_items());
    table_ = new std::string(aws_->make_table("verify", *items_));
  }
  static void TearDownTestSuite() {
    delete table_;
    delete items_;
    delete aws_;
  }

  Destination s3_dest(const std::string& prefix) {
    if (bucket_.empty()) bucket_ = aws_->make_bucket("verify");
    auto d = Destination::parse("s3://" + bucket_ + "/" + prefix);
    EXPECT_TRUE(d) << d.error().to_string();
    return d ? *d : Destination{};
  }
  Destination dir_dest() {
    auto d = Destination::parse(dir_.path() + "/out");
    EXPECT_TRUE(d) << d.error().to_string();
    return d ? *d : Destination{};
  }

  // A finished run of the test table: several files (small file_size, small pages).
  ScanSummary make_run(const Destination& dest, OutputFormat format = OutputFormat::kJsonl,
                       Compression compression = Compression::kGzip) {
    ScanOptions o = aws_->scan_options(*table_, dest);
    o.format = format;
    o.compression = compression;
    o.request.limit = 25;
    o.file_size = 2000;
    o.total_segments = 2;
    auto s = run_scan(std::move(o));
    EXPECT_TRUE(s) << s.error().to_string();
    if (!s) return {};
    EXPECT_GT(s->run.files.size(), 2u);
    return *s;
  }

  Result<VerifyReport> verify(const Destination& dest, const std::string& run_id, bool deep) {
    VerifyOptions o;
    o.dest = dest;
    o.dest_aws.endpoint_url = aws_->s3_endpoint();
    o.run_id = run_id;
    o.deep = deep;
    o.env = aws_->env();
    return verify_run(std::move(o));
  }

  // Verifies run and expects exactly the problems (key suffix, problem start) given, each once or more.
  VerifyReport expect_problems(const Destination& dest, const std::string& run_id, bool deep,
                               const std::vector<std::pair<std::string, std::string>>& expected) {
    auto r = verify(dest, run_id, deep);
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r) return {};
    EXPECT_FALSE(r->ok());
    for (const auto& [key, what] : expected)
      EXPECT_NE(find_problem(*r, key, what), nullptr) << "no '" << what << "' about " << key << " in:\n"
                                                      << problems_of(*r);
    for (const auto& p : r->problems) {
      bool wanted = false;
      for (const auto& [key, what] : expected) wanted |= p.key.ends_with(key) && p.problem.starts_with(what);
      EXPECT_TRUE(wanted) << "unexpected problem: " << p.key << " | " << p.problem << " | " << p.found;
    }
    return *r;
  }

  S3Client s3() {
    auto config = make_service_config("s3", AwsOptions{"", "", aws_->s3_endpoint()}, aws_->env());
    EXPECT_TRUE(config) << config.error().to_string();
    return S3Client(*config);
  }
  std::string get(const std::string& key) {
    std::string body;
    Status s = s3().get_object(bucket_, key, body);
    EXPECT_TRUE(s) << s.error().to_string();
    return body;
  }
  void put(const std::string& key, const std::string& bytes) {
    auto etag = s3().put_object(bucket_, key, bytes);
    ASSERT_TRUE(etag) << etag.error().to_string();
  }
  void remove(const std::string& key) {
    Status s = s3().delete_object(bucket_, key);
    ASSERT_TRUE(s) << s.error().to_string();
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  static LocalAws* aws_;
  static std::vector<TestItem>* items_;
  static std::string* table_;
  std::string bucket_;
  TempDir dir_;
};

LocalAws* ScanVerifyTest::aws_ = nullptr;
std::vector<TestItem>* ScanVerifyTest::items_ = nullptr;
std::string* ScanVerifyTest::table_ = nullptr;

TEST_F(ScanVerifyTest, GoodRunsPassInBothFormatsEveryCompressionInS3AndADirectory) {
  for (bool to_s3 : {true, false}) {
    for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
      for (Compression compression : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
        const std::string name =
            std::string(output_format_name(format)) + "-" + std::string(compression_name(compression));
        SCOPED_TRACE(name + (to_s3 ? " S3" : " directory"));
        Destination dest = to_s3 ? s3_dest("good/" + name) : dir_dest();
        ScanSummary run = make_run(dest, format, compression);
        for (bool deep : {false, true}) {
          auto r = verify(dest, run.run.run_id, deep);
          ASSERT_TRUE(r) << r.error().to_string();
          EXPECT_TRUE(r->ok()) << problems_of(*r);
          EXPECT_EQ(r->files, run.run.files.size());
          EXPECT_EQ(r->items, items_->size());
          EXPECT_EQ(r->bytes, run.run.stored_bytes());
          EXPECT_EQ(r->lines, deep ? items_->size() : 0u);
          EXPECT_EQ(r->bytes_read, deep ? run.run.stored_bytes() : 0u) << "only deep reads data files";
        }
      }
    }
  }
}

TEST_F(ScanVerifyTest, AChangedByteIsCaughtByETagAndWithDeepByMd5AndDecompression) {
  Destination dest = s3_dest("changed");
  ScanSummary run = make_run(dest);
  const std::string key = run.run.files[1].object.key;
  std::string bytes = get(key);
  bytes[bytes.size() / 2] ^= 0x20;  // the same size, one byte changed
  put(key, bytes);
  expect_problems(dest, run.run.run_id, false, {{key, "ETag differs"}});
  VerifyReport deep =
      expect_problems(dest, run.run.run_id, true,
                      {{key, "ETag differs"}, {key, "MD5 differs"}, {key, "decompression failed"}});
  const VerifyProblem* md5 = find_problem(deep, key, "MD5 differs");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->expected, run.run.files[1].object.md5_base64);
  EXPECT_EQ(md5->found, md5_base64(bytes));
}

TEST_F(ScanVerifyTest, AChangedByteInAnUncompressedFileNamesTheInvalidLine) {
  Destination dest = s3_dest("changed-none");
  ScanSummary run = make_run(dest, OutputFormat::kDynamoDbJson, Compression::kNone);
  const std::string key = run.run.files[0].object.key;
  std::string bytes = get(key);
  const size_t second_line = bytes.find('\n') + 1;
  ASSERT_EQ(bytes.substr(second_line, 9), "{\"Item\":{");
  bytes[second_line + 2] = 'J';  // {"Jtem": the second line is JSON, but not DYNAMODB_JSON
  put(key, bytes);
  VerifyReport r = expect_problems(
      dest, run.run.run_id, true,
      {{key, "ETag differs"}, {key, "MD5 differs"}, {key, "line 2 is not valid DYNAMODB_JSON"}});
  EXPECT_EQ(find_problem(r, key, "line 2")->found, "not {\"Item\":{...}}");

  // A file cut short inside its last line: that line is counted, and named.
  const std::string cut = run.run.files[1].object.key;
  put(key, get(key).replace(second_line + 2, 1, "I"));  // the first file as it was
  std::string cut_bytes = get(cut);
  put(cut, cut_bytes.substr(0, cut_bytes.size() - 5));
  r = expect_problems(
      dest, run.run.run_id, true,
      {{cut, "size differs"},
       {cut, "ETag differs"},
       {cut, "MD5 differs"},
       {cut, "the last line has no newline"},
       {cut, "line " + std::to_string(run.run.files[1].item_count) + " is not valid DYNAMODB_JSON"}});
}

TEST_F(ScanVerifyTest, AMissingFileAnExtraFileAndAWrongSizeAreCaughtWithoutDeep) {
  Destination dest = s3_dest("missing");
  ScanSummary run = make_run(dest, OutputFormat::kJsonl, Compression::kZstd);
  const std::string gone = run.run.files[0].object.key;
  const std::string shorter = run.run.files[1].object.key;
  remove(gone);
  put(shorter, get(shorter).substr(1));
  const std::string orphan = dest.key(run.run.run_id + "/data/0001-00099.json.zst");
  put(orphan, "not zstd");
  put(dest.key(run.run.run_id + "/segments/0.json"), "{}");  // not data: not an orphan
  VerifyReport r = expect_problems(dest, run.run.run_id, false,
                                   {{gone, "missing"},
                                    {orphan, "not in the manifest"},
                                    {shorter, "size differs"},
                                    {shorter, "ETag differs"}});
  const VerifyProblem* size = find_problem(r, shorter, "size differs");
  EXPECT_EQ(size->expected, std::to_string(run.run.files[1].object.size) + " bytes");
  EXPECT_EQ(size->found, std::to_string(run.run.files[1].object.size - 1) + " bytes");
  expect_problems(dest, run.run.run_id, true,
                  {{gone, "missing"},
                   {orphan, "not in the manifest"},
                   {shorter, "size differs"},
                   {shorter, "ETag differs"},
                   {shorter, "MD5 differs"},
                   {shorter, "decompression failed"}});
}

TEST_F(ScanVerifyTest, AWrongItemCountInTheManifestIsNamed) {
  Destination dest = s3_dest("count");
  ScanSummary run = make_run(dest);
  const std::string files_key = dest.key(run.run.run_id + "/manifest-files.json");
  const std::string summary_key = dest.key(run.run.run_id + "/manifest-summary.json");
  std::vector<DataFile> files = run.run.files;
  files[2].item_count += 1;
  put(files_key, manifest_files_json(files));
  // Without deep, only the sum can tell; with deep, the file whose lines do not match.
  expect_problems(dest, run.run.run_id, false, {{summary_key, "counts do not add up: itemCount"}});
  VerifyReport r = expect_problems(dest, run.run.run_id, true,
                                   {{summary_key, "counts do not add up: itemCount"},
                                    {files[2].object.key, "line count differs from itemCount"}});
  const VerifyProblem* p = find_problem(r, files[2].object.key, "line count");
  EXPECT_EQ(p->expected, std::to_string(files[2].item_count));
  EXPECT_EQ(p->found, std::to_string(files[2].item_count - 1));
}

TEST_F(ScanVerifyTest, ADamagedDirectoryRunIsCaught) {
  Destination dest = dir_dest();
  ScanSummary run = make_run(dest, OutputFormat::kJsonl, Compression::kGzip);
  const std::string root = dest.directory + "/";
  const std::string changed = run.run.files[0].object.key, gone = run.run.files[1].object.key;
  std::string bytes = read_file(root + changed);
  bytes[bytes.size() / 2] ^= 0x01;
  write_file(root + changed, bytes);
  fs::remove(root + gone);
  const std::string orphan = run.run.run_id + "/data/0000-00099.json.gz.partial";
  write_file(root + orphan, "left by a crash");
  expect_problems(
      dest, run.run.run_id, false,
      {{root + changed, "ETag differs"}, {root + gone, "missing"}, {root + orphan, "not in the manifest"}});
  expect_problems(dest, run.run.run_id, true,
                  {{root + changed, "ETag differs"},
                   {root + changed, "MD5 differs"},
                   {root + changed, "decompression failed"},
                   {root + gone, "missing"},
                   {root + orphan, "not in the manifest"}});
}

TEST_F(ScanVerifyTest, AMissingSummaryIsAProblemAndNoSuchRunIsAnError) {
  Destination dest = s3_dest("runs");
  ScanSummary run = make_run(dest);
  remove(dest.key(run.run.run_id + "/manifest-summary.json"));
  expect_problems(dest, run.run.run_id, false, {{run.run.run_id + "/manifest-summary.json", "missing"}});

  auto none = verify(dest, "no-such-run", false);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "NoSuchRun");
  EXPECT_NE(none.error().message.find("'no-such-run'"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("s3://" + bucket_ + "/runs"), std::string::npos)
      << none.error().message;

  auto bad_id = verify(dest, "../x", false);
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(bad_id.error().field, "run_id");

  auto d = Destination::parse("s3://" + testing::unique_name("no-bucket"));
  ASSERT_TRUE(d);
  auto no_bucket = verify(*d, run.run.run_id, false);
  ASSERT_FALSE(no_bucket);
  EXPECT_NE(no_bucket.error().to_string().find(d->bucket), std::string::npos)
      << no_bucket.error().to_string();
}

TEST_F(ScanVerifyTest, AFinalizedSharedScanPassesAndItsSegmentManifestsAreNotData) {
  Destination dest = s3_dest("shared");
  const std::string run_id = "shared-run";
  for (int segment : {0, 1, 2}) {
    ScanOptions o = aws_->scan_options(*table_, dest);
    o.total_segments = 3;
    o.segment = segment;
    o.run_id = run_id;
    o.file_size = 2000;
    o.request.limit = 25;
    auto s = run_scan(std::move(o));
    ASSERT_TRUE(s) << s.error().to_string();
  }
  auto incomplete = verify(dest, run_id, false);  // segments done, not finalized: no summary yet
  ASSERT_TRUE(incomplete) << incomplete.error().to_string();
  EXPECT_NE(find_problem(*incomplete, run_id + "/manifest-summary.json", "missing"), nullptr)
      << problems_of(*incomplete);
  auto finalized = finalize_run(aws_->finalize_options(dest, run_id));
  ASSERT_TRUE(finalized) << finalized.error().to_string();
  auto r = verify(dest, run_id, true);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->ok()) << problems_of(*r);
  EXPECT_EQ(r->items, items_->size());
  EXPECT_EQ(r->lines, items_->size());
  EXPECT_EQ(r->files, finalized->run.files.size());
}

TEST_F(ScanVerifyTest, AnEmptyTablesRunHasNoFilesAndPasses) {
  const std::string empty = aws_->make_table("verify-empty", {});
  Destination dest = s3_dest("empty");
  auto run = run_scan(aws_->scan_options(empty, dest));
  ASSERT_TRUE(run) << run.error().to_string();
  auto r = verify(dest, run->run.run_id, true);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->ok()) << problems_of(*r);
  EXPECT_EQ(r->files, 0u);
  EXPECT_EQ(r->items, 0u);
}

// ---- the ddb2s3 binary ----

class VerifyCliTest : public ScanVerifyTest {
 protected:
  testing::ProcessOutcome ddb2s3(const std::string& dest, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"verify", dest, "--dest-endpoint-url", aws_->s3_endpoint()};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_process(testing::ddb2s3_argv(args), aws_->env_vars());
  }
};

Json parse_or_fail(const std::string& text) {
  auto j = testing::parse_json(text);
  EXPECT_TRUE(j) << j.error().message << ": " << text;
  return j ? *j : Json{};
}

TEST_F(VerifyCliTest, GoodRunExitsZeroWithAResultLineAndJson) {
  Destination dest = s3_dest("cli-good");
  ScanSummary run = make_run(dest, OutputFormat::kDynamoDbJson, Compression::kZstd);
  const std::string where = "s3://" + bucket_ + "/cli-good";
  auto r = ddb2s3(where, {"--run-id", run.run.run_id, "--deep"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("verified: " + std::to_string(run.run.files.size()) + " files, ")) << r.out;
  EXPECT_TRUE(r.out.ends_with(": OK\n")) << r.out;

  r = ddb2s3(where, {"--run-id", run.run.run_id, "--deep", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json j = parse_or_fail(r.out);
  EXPECT_EQ(j.find("ok")->text, "true");
  EXPECT_EQ(j.find("deep")->text, "true");
  EXPECT_EQ(j.find("run")->text, run.run.run_id);
  EXPECT_EQ(j.find("files")->text, std::to_string(run.run.files.size()));
  EXPECT_EQ(j.find("items")->text, std::to_string(items_->size()));
  EXPECT_EQ(j.find("bytes")->text, std::to_string(run.run.stored_bytes()));
  EXPECT_TRUE(j.find("problems")->elements.empty());

  auto local = dir_dest();
  ScanSummary dir_run = make_run(local);
  r = ddb2s3(local.directory, {"--run-id", dir_run.run.run_id, "--deep"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(VerifyCliTest, ProblemsExitOneNamingEachFileInTextAndJson) {
  Destination dest = s3_dest("cli-bad");
  ScanSummary run = make_run(dest);
  const std::string changed = run.run.files[0].object.key, gone = run.run.files[1].object.key;
  std::string bytes = get(changed);
  bytes[bytes.size() - 6] ^= 0x10;  // in the gzip trailer's CRC-32
  put(changed, bytes);
  remove(gone);
  const std::string where = "s3://" + bucket_ + "/cli-bad";
  auto r = ddb2s3(where, {"--run-id", run.run.run_id, "--deep"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("s3://" + bucket_ + "/" + changed + ": MD5 differs: expected "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("s3://" + bucket_ + "/" + changed + ": decompression failed"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("s3://" + bucket_ + "/" + gone + ": missing"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with(": FAILED: 4 problems\n")) << r.out;  // + ETag differs

  r = ddb2s3(where, {"--run-id", run.run.run_id, "--deep", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  Json j = parse_or_fail(r.out);
  EXPECT_EQ(j.find("ok")->text, "false");
  std::multimap<std::string, std::string> problems;
  for (const Json& p : j.find("problems")->elements) {
    problems.emplace(p.find("key")->text, p.find("problem")->text);
    EXPECT_NE(p.find("expected"), nullptr);
    EXPECT_NE(p.find("found"), nullptr);
  }
  EXPECT_EQ(problems.count(changed), 3u) << r.out;
  ASSERT_EQ(problems.count(gone), 1u) << r.out;
  EXPECT_EQ(problems.find(gone)->second, "missing");
}

TEST_F(VerifyCliTest, AnExtraFileAndAWrongItemCountAreNamedInTextAndJson) {
  Destination dest = s3_dest("cli-extra");
  ScanSummary run = make_run(dest, OutputFormat::kJsonl, Compression::kNone);
  const std::string orphan = dest.key(run.run.run_id + "/data/0000-00099.json");
  put(orphan, "{\"id\":\"x\"}\n");
  std::vector<DataFile> files = run.run.files;
  files[0].item_count = 0;
  put(dest.key(run.run.run_id + "/manifest-files.json"), manifest_files_json(files));
  const std::string where = "s3://" + bucket_ + "/cli-extra";
  auto r = ddb2s3(where, {"--run-id", run.run.run_id});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("s3://" + bucket_ + "/" + orphan + ": not in the manifest"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("manifest-summary.json: counts do not add up: itemCount: expected " +
                       std::to_string(items_->size()) + ", found " +
                       std::to_string(items_->size() - run.run.files[0].item_count)),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.ends_with(": FAILED: 2 problems\n")) << r.out;

  r = ddb2s3(where, {"--run-id", run.run.run_id, "--deep", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  Json j = parse_or_fail(r.out);
  std::multimap<std::string, std::string> problems;
  for (const Json& p : j.find("problems")->elements)
    problems.emplace(p.find("key")->text, p.find("problem")->text);
  EXPECT_EQ(problems.count(orphan), 1u) << r.out;
  ASSERT_EQ(problems.count(files[0].object.key), 1u) << r.out;
  EXPECT_EQ(problems.find(files[0].object.key)->second, "line count differs from itemCount");
  EXPECT_EQ(problems.count(dest.key(run.run.run_id + "/manifest-summary.json")), 1u) << r.out;
  EXPECT_EQ(problems.size(), 3u) << r.out;
}

TEST_F(VerifyCliTest, NoSuchRunExitsOneAndUsageErrorsExitTwo) {
  Destination dest = s3_dest("cli-none");
  const std::string where = "s3://" + bucket_ + "/cli-none";
  auto r = ddb2s3(where, {"--run-id", "r-404"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("'r-404'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--run-id"), std::string::npos) << "the hint names the flag: " << r.err;

  r = ddb2s3(where, {"--run-id", "a/b"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--run-id"), std::string::npos) << r.err;
  r = ddb2s3(where, {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = ddb2s3("ftp://x", {"--run-id", "r"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace ddb2s3

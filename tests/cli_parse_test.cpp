// cli/parse.h: a command's argument list into the library's options with the program's own flags and checks
// (what the Python module calls), and errors in flag words.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli/parse.h"

namespace ddb2s3::cli {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(ParseScanArgs, FlagsBecomeTheOptionsTheProgramWouldRunWith) {
  auto o = parse_scan_args({"orders", "s3://bucket/prefix", "--file-size=64MiB", "--format", "dynamodb-json",
                            "--total-segments=4", "--consistent-read", "--dest-region=eu-west-1",
                            "--s3-extra-args={\"StorageClass\":\"STANDARD_IA\"}"});
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->table, "orders");
  EXPECT_EQ(o->file_size, 64ull << 20);
  EXPECT_EQ(o->format, OutputFormat::kDynamoDbJson);
  EXPECT_EQ(o->total_segments, 4);
  EXPECT_TRUE(o->request.consistent_read);
  EXPECT_EQ(o->dest_aws.region, "eu-west-1");
  EXPECT_EQ(o->object_options.get("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(o->cancel, nullptr);
  // Defaults are the program's.
  auto d = parse_scan_args({"orders", "/tmp/out"});
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->file_size, kDefaultFileSize);
  EXPECT_EQ(d->compression, Compression::kGzip);
}

TEST(ParseScanArgs, RefusalsAreUsageErrorsInFlagWords) {
  auto size = parse_scan_args({"t", "/tmp/out", "--file-size=0"});
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(size.error().message.rfind("--file-size: ", 0), 0u) << size.error().message;
  auto unknown = parse_scan_args({"t", "/tmp/out", "--no-such-flag=1"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kUsage);
  EXPECT_NE(unknown.error().message.find("--no-such-flag"), std::string::npos) << unknown.error().message;
  auto choice = parse_scan_args({"t", "/tmp/out", "--compression=lz4"});
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.error().message.find("--compression"), std::string::npos) << choice.error().message;
  auto twice =
      parse_scan_args({"t", "/tmp/out", "--filter=a = :a", "--scan-kwargs={\"FilterExpression\":\"b\"}"});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("--filter"), std::string::npos) << twice.error().message;
}

TEST(ParseOtherCommands, FinalizeVerifyExportAndExportStatus) {
  auto f = parse_finalize_args({"s3://bucket/p", "--run-id=R", "--dest-endpoint-url=http://127.0.0.1:1"});
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->run_id, "R");
  EXPECT_EQ(f->dest_aws.endpoint_url, "http://127.0.0.1:1");
  auto missing = parse_finalize_args({"s3://bucket/p"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("--run-id"), std::string::npos) << missing.error().message;

  auto v = parse_verify_args({"/tmp/out", "--run-id=R", "--deep"});
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_TRUE(v->deep);

  auto e = parse_export_args({"orders", "s3://bucket/p", "--export-format=ION", "--check-interval=0.5",
                              "--max-attempts=3", "--no-wait", "--source-region=eu-west-1"});
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->export_format, "ION");
  EXPECT_EQ(e->s3_bucket, "bucket");
  EXPECT_EQ(e->s3_prefix, "p");
  EXPECT_EQ(e->wait_options.check_interval_seconds, 0.5);
  EXPECT_EQ(e->wait_options.max_attempts, 3);
  EXPECT_FALSE(e->wait);
  EXPECT_EQ(e->source.region, "eu-west-1");
  auto attempts = parse_export_args({"orders", "s3://bucket/p", "--max-attempts=0"});
  ASSERT_FALSE(attempts.ok());
  EXPECT_NE(attempts.error().message.find("--max-attempts"), std::string::npos) << attempts.error().message;

  auto s = parse_export_status_args({"arn:aws:dynamodb:us-east-1:1:table/t/export/x", "--wait"});
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_TRUE(s->wait);
}

TEST(CommandFlags, ListsEveryLongNameButOutputAndHelp) {
  auto scan = command_flags("scan");
  for (const char* f : {"--file-size", "--scan-kwargs", "--segment", "--dest-endpoint-url", "--s3-extra-args",
                        "--no-checkpoints"})
    EXPECT_TRUE(has(scan, f)) << f;
  EXPECT_FALSE(has(scan, "--json"));
  EXPECT_FALSE(has(scan, "--help"));
  auto exp = command_flags("export");
  EXPECT_TRUE(has(exp, "--profile"));
  EXPECT_TRUE(has(exp, "--source-profile"));
  EXPECT_TRUE(has(exp, "--no-wait"));
  auto merge = command_flags("merge");
  for (const char* f : {"--incremental", "--to", "--partitions", "--key", "--file-size", "--endpoint-url"})
    EXPECT_TRUE(has(merge, f)) << f;
  EXPECT_TRUE(command_flags("no-such-command").empty());
}

TEST(ErrorsInFlagWords, TheLibrarysOptionNamesBecomeFlagsInMessageAndField) {
  Error e = Error::usage("total_segments must be at least 1").with_field("total_segments");
  Error s = scan_error_in_flag_words(e);
  EXPECT_EQ(s.message, "--total-segments must be at least 1");
  EXPECT_EQ(s.field, "--total-segments");
  Error x =
      export_error_in_flag_words(Error::usage("max_attempts must be at least 1").with_field("max_attempts"));
  EXPECT_EQ(x.field, "--max-attempts");
  // A setting without a flag keeps its name.
  Error k = scan_error_in_flag_words(
      Error::usage("source.access_key_id must be given with source.secret_access_key")
          .with_field("source.access_key_id"));
  EXPECT_EQ(k.field, "source.access_key_id");
}

}  // namespace
}  // namespace ddb2s3::cli

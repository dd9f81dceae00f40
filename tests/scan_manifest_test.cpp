// The manifests' text: the native export's field names, and segment manifests that finalize can read back.
#include <gtest/gtest.h>

#include "scan/manifest.h"
#include "scan/parallel.h"

namespace ddb2s3 {
namespace {

RunRecord sample() {
  RunRecord r;
  r.run_id = "run-1";
  r.table = "orders";
  r.table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";
  r.start_time = "2026-11-26T10:00:00.000Z";
  r.end_time = "2026-11-26T10:05:00.000Z";
  r.bucket = "my-bucket";
  r.prefix = "exports/orders";
  r.sse_algorithm = "aws:kms";
  r.sse_kms_key_id = "key-1";
  r.format = OutputFormat::kDynamoDbJson;
  r.compression = Compression::kZstd;
  r.total_segments = 4;
  r.segment = 2;
  r.item_count = 7;
  r.scanned_count = 9;
  r.scan_json = R"({"TableName":"orders","FilterExpression":"a = :v \"q\""})";
  r.files.push_back(DataFile{StoredObject{"exports/orders/run-1/data/0002-00000.json.zst", 1234, "md5==", "etag1"}, 7, 2});
  return r;
}

TEST(Manifest, DataFileNamesSortBySegmentThenIndex) {
  EXPECT_EQ(data_file_name(3, 8, 12, Compression::kGzip), "data/0003-00012.json.gz");
  EXPECT_EQ(data_file_name(0, 1, 0, Compression::kNone), "data/0000-00000.json");
  EXPECT_EQ(data_file_name(12345, 100000, 1, Compression::kZstd), "data/12345-00001.json.zst");
  EXPECT_LT(data_file_name(1, 20000, 0, Compression::kGzip), data_file_name(10, 20000, 0, Compression::kGzip));
}

TEST(Manifest, FilesLinesUseTheNativeFieldNames) {
  std::string text = manifest_files_json(sample().files);
  EXPECT_EQ(text,
            "{\"itemCount\":7,\"md5Checksum\":\"md5==\",\"etag\":\"etag1\",\"dataFileS3Key\":"
            "\"exports/orders/run-1/data/0002-00000.json.zst\",\"size\":1234}\n");
}

TEST(Manifest, SummaryHasTheNativeFieldsAndOurs) {
  std::string text = manifest_summary_json(sample(), "exports/orders/run-1/manifest-files.json");
  for (const char* field :
       {"\"version\":\"2020-06-30\"", "\"exportType\":\"SCAN\"", "\"outputFormat\":\"DYNAMODB_JSON\"",
        "\"s3SseAlgorithm\":\"aws:kms\"", "\"s3SseKmsKeyId\":\"key-1\"", "\"s3Bucket\":\"my-bucket\"",
        "\"s3Prefix\":\"exports/orders\"", "\"itemCount\":7", "\"compression\":\"zstd\"", "\"fileCount\":1",
        "\"manifestFilesS3Key\":\"exports/orders/run-1/manifest-files.json\"", "\"runId\":\"run-1\"",
        "\"scan\":{\"TableName\":\"orders\""})
    EXPECT_NE(text.find(field), std::string::npos) << field << " not in " << text;
  RunRecord plain = sample();
  plain.sse_algorithm.clear();
  plain.sse_kms_key_id.clear();
  EXPECT_NE(manifest_summary_json(plain, "k").find("\"s3SseAlgorithm\":null"), std::string::npos);
}

TEST(Manifest, SegmentManifestRoundTrips) {
  RunRecord in = sample();
  auto out = parse_segment_manifest(segment_manifest_json(in), "segments/2.json");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->run_id, in.run_id);
  EXPECT_EQ(out->table_arn, in.table_arn);
  EXPECT_EQ(out->segment, 2);
  EXPECT_EQ(out->total_segments, 4);
  EXPECT_EQ(out->item_count, 7u);
  EXPECT_EQ(out->scanned_count, 9u);
  EXPECT_EQ(out->format, OutputFormat::kDynamoDbJson);
  EXPECT_EQ(out->compression, Compression::kZstd);
  EXPECT_EQ(out->scan_json, in.scan_json);
  ASSERT_EQ(out->files.size(), 1u);
  EXPECT_EQ(out->files[0].object.key, in.files[0].object.key);
  EXPECT_EQ(out->files[0].object.size, 1234u);
  EXPECT_EQ(out->files[0].object.md5_base64, "md5==");
  EXPECT_EQ(out->files[0].segment, 2);
}

TEST(Manifest, BrokenSegmentManifestsAreRejectedWithTheirKey) {
  for (const char* text : {"", "not json", "[]", "{\"segment\":1,\"totalSegments\":1,\"files\":[]}",
                           "{\"segment\":0,\"totalSegments\":2}", "{\"segment\":\"x\",\"totalSegments\":2,\"files\":[]}"}) {
    auto r = parse_segment_manifest(text, "s3://b/p/run/segments/1.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, "InvalidSegmentManifest") << text;
    EXPECT_NE(r.error().to_string().find("segments/1.json"), std::string::npos) << r.error().to_string();
  }
}

TEST(Manifest, SegmentsAreCheckedInOnePlace) {
  EXPECT_TRUE(check_segments(1, std::nullopt).ok());
  EXPECT_TRUE(check_segments(kMaxTotalSegments, kMaxTotalSegments - 1).ok());
  EXPECT_EQ(check_segments(0, std::nullopt).error().field, "total_segments");
  EXPECT_EQ(check_segments(kMaxTotalSegments + 1, std::nullopt).error().field, "total_segments");
  Status s = check_segments(3, 3);
  EXPECT_EQ(s.error().field, "segment");
  EXPECT_EQ(s.error().message, "segment must be from 0 to total_segments - 1 (2), not 3");
  EXPECT_EQ(check_segments(3, -1).error().field, "segment");
  // A segment manifest is held to the same bounds: 2^32 + 4 segments were read as 4 before.
  auto r = parse_segment_manifest(R"({"segment":1,"totalSegments":4294967300,"files":[]})", "segments/1.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("total_segments must be from 1 to 1000000"), std::string::npos)
      << r.error().message;
}

TEST(Manifest, SegmentManifestCarriesWhatTheSegmentScanned) {
  RunRecord in = sample();
  in.scan_bytes = 123456;
  in.pages = 12;
  in.seconds = 2.5;
  auto out = parse_segment_manifest(segment_manifest_json(in), "segments/2.json");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->scan_bytes, 123456u);
  EXPECT_EQ(out->pages, 12u);
  EXPECT_DOUBLE_EQ(out->seconds, 2.5);
  // The native-shaped summary does not carry them.
  EXPECT_EQ(manifest_summary_json(in, "k").find("scanBytes"), std::string::npos);
  // A segment manifest of an earlier version, without them, still reads (as 0).
  auto old = parse_segment_manifest(R"({"segment":0,"totalSegments":2,"itemCount":3,"files":[]})", "segments/0.json");
  ASSERT_TRUE(old.ok()) << old.error().to_string();
  EXPECT_EQ(old->item_count, 3u);
  EXPECT_EQ(old->scan_bytes, 0u);
  EXPECT_EQ(old->pages, 0u);
  EXPECT_EQ(old->seconds, 0.0);
  EXPECT_EQ(old->consumed_rcu, 0.0);
  EXPECT_EQ(old->throttles, 0u);
}

// What a segment read in capacity units goes into its manifest (finalize sums it); the run's summary says it
// too.
TEST(Manifest, ConsumedReadCapacityIsInBothManifestsAndThrottlesInTheSegmentsOnes) {
  RunRecord in = sample();
  in.consumed_rcu = 1234.5;
  in.throttles = 3;
  auto out = parse_segment_manifest(segment_manifest_json(in), "segments/2.json");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_DOUBLE_EQ(out->consumed_rcu, 1234.5);
  EXPECT_EQ(out->throttles, 3u);
  EXPECT_NE(manifest_summary_json(in, "k").find("\"consumedReadCapacityUnits\":1234.5"), std::string::npos)
      << manifest_summary_json(in, "k");
  auto bad = parse_segment_manifest(
      R"({"segment":0,"totalSegments":2,"consumedReadCapacityUnits":"many","files":[]})", "segments/0.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("consumedReadCapacityUnits"), std::string::npos) << bad.error().message;
}

TEST(Manifest, SummaryAndFilesReadBackAsWritten) {
  RunRecord in = sample();
  auto summary =
      parse_manifest_summary(manifest_summary_json(in, "exports/orders/run-1/manifest-files.json"), "k");
  ASSERT_TRUE(summary.ok()) << summary.error().to_string();
  EXPECT_EQ(summary->run.run_id, "run-1");
  EXPECT_EQ(summary->run.item_count, 7u);
  EXPECT_EQ(summary->file_count, 1u);
  EXPECT_EQ(summary->run.format, OutputFormat::kDynamoDbJson);
  EXPECT_EQ(summary->run.compression, Compression::kZstd);
  EXPECT_EQ(summary->manifest_files_key, "exports/orders/run-1/manifest-files.json");

  in.files.push_back(
      DataFile{StoredObject{"exports/orders/run-1/data/0003-00000.json.zst", 99, "m2==", "e2"}, 3, 3});
  auto files = parse_manifest_files(manifest_files_json(in.files), "k");
  ASSERT_TRUE(files.ok()) << files.error().to_string();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[1].file.object.key, "exports/orders/run-1/data/0003-00000.json.zst");
  EXPECT_EQ((*files)[1].file.object.size, 99u);
  EXPECT_EQ((*files)[1].file.object.md5_base64, "m2==");
  EXPECT_EQ((*files)[1].file.object.etag, "e2");
  EXPECT_EQ((*files)[1].file.item_count, 3u);
  EXPECT_TRUE((*files)[1].size_recorded);
  EXPECT_EQ((*files)[1].line, 2u);
  // A line in the native shape (no size) reads too.
  auto native =
      parse_manifest_files(R"({"itemCount":1,"md5Checksum":"m","etag":"e","dataFileS3Key":"d/x.json"})"
                           "\n",
                           "k");
  ASSERT_TRUE(native.ok()) << native.error().to_string();
  EXPECT_FALSE((*native)[0].size_recorded);
}

TEST(Manifest, BrokenSummariesAndFileListsAreRejectedNamingKeyAndWhy) {
  const std::string good = manifest_summary_json(sample(), "m");
  for (auto [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "not a JSON object"},
           {"[1]", "not a JSON object"},
           {R"({"runId":"r"})", "itemCount is missing"},
           {std::string(good).replace(good.find("\"itemCount\":7"), 13, "\"itemCount\":\"7\""),
            "itemCount is not a number"},
           {std::string(good).replace(good.find("\"zstd\""), 6, "\"lz4\""),
            "compression is not gzip, zstd or none"},
           {std::string(good).replace(good.find("\"DYNAMODB_JSON\""), 15, "\"CSV\""),
            "outputFormat is not JSONL"},
           // Accepted once (a fuzz finding: fuzz_manifest): a summary that names no run.
           {std::string(good).replace(good.find("\"runId\":\"run-1\""), 15, "\"runId\":\"\""),
            "runId is not a non-empty string"}}) {
    auto r = parse_manifest_summary(text, "s3://b/p/r/manifest-summary.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, "InvalidManifestSummary");
    EXPECT_NE(r.error().message.find("s3://b/p/r/manifest-summary.json"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
  const std::string line = R"({"itemCount":1,"md5Checksum":"m","etag":"e","dataFileS3Key":"d/x.json"})";
  for (auto [text, why] : std::vector<std::pair<std::string, std::string>>{
           {line, "line 1 does not end with a newline"},
           {line + "\nnot json\n", "line 2 is not a JSON object"},
           {line + "\n{\"itemCount\":-1,\"md5Checksum\":\"m\",\"etag\":\"e\",\"dataFileS3Key\":\"k\"}\n",
            "line 2 has an itemCount"},
           {"{\"itemCount\":1,\"etag\":\"e\",\"dataFileS3Key\":\"k\"}\n", "line 1 lacks"}}) {
    auto r = parse_manifest_files(text, "s3://b/p/r/manifest-files.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, "InvalidManifestFiles");
    EXPECT_NE(r.error().message.find("s3://b/p/r/manifest-files.json"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace ddb2s3

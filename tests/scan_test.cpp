// Scan mode end to end through the library (run_scan, finalize_run) against real dynalite and s3rver:
// every type round-trips in both formats and all compressions, objects roll at page ends, parallel and
// shared scans give every item exactly once, Scan fields apply, manifests say what was written, and
// failures leave no manifest-summary.json.
#include "scan/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "scan/manifest.h"
#include "support/files.h"
#include "support/http_server.h"
#include "support/scan_fixtures.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::canonical_plain_item;
using testing::canonical_typed_item;
using testing::decompress;
using testing::expected_plain_item;
using testing::Json;
using testing::LocalAws;
using testing::md5_base64_of;
using testing::parse_json;
using testing::read_run_lines;
using testing::split_lines;
using testing::TempDir;
using testing::TestItem;

Destination s3_dest(const std::string& bucket, const std::string& prefix) {
  auto d = Destination::parse("s3://" + bucket + (prefix.empty() ? "" : "/" + prefix));
  EXPECT_TRUE(d) << d.error().to_string();
  return d ? *d : Destination{};
}

Json parse_or_fail(std::string_view text) {
  auto j = parse_json(text);
  EXPECT_TRUE(j) << j.error().message;
  return j ? *j : Json{};
}

std::string string_member(const Json& j, std::string_view name) {
  const Json* v = j.find(name);
  return v != nullptr ? v->text : "<no " + std::string(name) + ">";
}

// The item's id from a line of either format; empty when the line has none.
std::string line_id(const Json& line, OutputFormat format) {
  const Json* item = format == OutputFormat::kDynamoDbJson ? line.find("Item") : &line;
  if (item == nullptr) return "";
  const Json* id = item->find("id");
  if (id == nullptr) return "";
  if (format == OutputFormat::kJsonl) return id->text;
  const Json* s = id->find("S");
  return s != nullptr ? s->text : "";
}

// Every expected item appears exactly once in lines, equal to what was written (in the format's form).
void expect_same_items(const std::vector<std::string>& lines, const std::vector<TestItem>& items,
                       OutputFormat format) {
  std::map<std::string, Json> expected;
  for (const auto& i : items) expected[i.id] = parse_or_fail(i.expected);
  std::set<std::string> seen;
  for (const auto& line : lines) {
    auto parsed = parse_json(line);
    ASSERT_TRUE(parsed) << parsed.error().message;
    std::string id = line_id(*parsed, format);
    ASSERT_FALSE(id.empty()) << "a line without an id: " << line;
    EXPECT_TRUE(seen.insert(id).second) << "item " << id << " written twice";
    auto it = expected.find(id);
    if (it == expected.end()) {
      ADD_FAILURE() << "unexpected item " << id << ": " << line;
      continue;
    }
    if (format == OutputFormat::kDynamoDbJson) {
      EXPECT_TRUE(line.starts_with("{\"Item\":{") && line.ends_with("}}")) << line;
      EXPECT_EQ(parsed->members.size(), 1u) << line;
      EXPECT_EQ(canonical_typed_item(*parsed->find("Item")), canonical_typed_item(it->second))
          << "item " << id;
    } else {
      EXPECT_EQ(canonical_plain_item(*parsed, it->second), expected_plain_item(it->second)) << "item " << id;
    }
  }
  EXPECT_EQ(seen.size(), expected.size()) << "items missing from the output";
}

std::set<std::string> ids_once(const std::vector<std::string>& lines, OutputFormat format, int* duplicates) {
  std::set<std::string> ids;
  *duplicates = 0;
  for (const auto& line : lines) {
    auto parsed = parse_json(line);
    if (!parsed || !ids.insert(line_id(*parsed, format)).second) ++*duplicates;
  }
  return ids;
}

std::set<std::string> all_ids(const std::vector<TestItem>& items) {
  std::set<std::string> ids;
  for (const auto& i : items) ids.insert(i.id);
  return ids;
}

// manifest-files.json as parsed lines.
std::vector<Json> manifest_files(LocalAws& aws, const Destination& dest, const std::string& run_id) {
  auto text = aws.read(dest, run_id + "/manifest-files.json");
  EXPECT_TRUE(text && text->has_value()) << "no manifest-files.json";
  std::vector<Json> out;
  if (!text || !text->has_value()) return out;
  auto lines = split_lines(**text);
  EXPECT_TRUE(lines) << lines.error().message;
  if (!lines) return out;
  for (const auto& l : *lines) out.push_back(parse_or_fail(l));
  return out;
}

Json manifest_summary(LocalAws& aws, const Destination& dest, const std::string& run_id) {
  auto text = aws.read(dest, run_id + "/manifest-summary.json");
  EXPECT_TRUE(text && text->has_value()) << "no manifest-summary.json";
  if (!text || !text->has_value()) return {};
  return parse_or_fail(**text);
}

bool summary_exists(LocalAws& aws, const Destination& dest, const std::string& run_id) {
  auto text = aws.read(dest, run_id + "/manifest-summary.json");
  EXPECT_TRUE(text) << text.error().to_string();
  return text && text->has_value();
}

uint64_t number_member(const Json& j, std::string_view name) {
  const Json* v = j.find(name);
  if (v == nullptr || !v->is(Json::Kind::kNumber)) {
    ADD_FAILURE() << name << " is not a number";
    return ~0ull;
  }
  return std::stoull(v->text);
}

class ScanTest : public ::testing::Test {
 protected:
  Result<ScanSummary> run(ScanOptions o) { return run_scan(std::move(o)); }

  LocalAws aws_;
};

TEST_F(ScanTest, EveryTypeRoundTripsInBothFormatsAndAllCompressions) {
  const std::vector<TestItem> items = testing::every_type_items();
  const std::string table = aws_.make_table("every-type", items);
  const std::string bucket = aws_.make_bucket("every-type");
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
    for (Compression compression : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
      SCOPED_TRACE(std::string(output_format_name(format)) + " " +
                   std::string(compression_name(compression)));
      Destination dest = s3_dest(bucket, "out/" + std::string(compression_name(compression)));
      ScanOptions o = aws_.scan_options(table, dest);
      o.format = format;
      o.compression = compression;
      o.request.limit = 7;  // several pages
      o.file_size = 600;    // and several files
      auto summary = run(o);
      ASSERT_TRUE(summary) << summary.error().to_string();
      EXPECT_EQ(summary->run.item_count, items.size());
      EXPECT_GT(summary->run.files.size(), 1u);
      for (const auto& f : summary->run.files)
        EXPECT_TRUE(f.object.key.ends_with(".json" + std::string(file_extension(compression)))) << f.object.key;
      auto lines = read_run_lines(aws_, dest, summary->run.run_id, compression);
      ASSERT_TRUE(lines) << lines.error().message;
      expect_same_items(*lines, items, format);
    }
  }
}

TEST_F(ScanTest, ObjectsRollAtTheFirstPageEndPastFileSizeAndManifestsDescribeThem) {
  const int kItems = 300;
  const std::vector<TestItem> items = testing::simple_items(kItems);
  const std::string table = aws_.make_table("roll", items);
  const std::string bucket = aws_.make_bucket("roll");
  const uint64_t kFileSize = 2000;
  const int kPage = 10;
  for (Compression compression : {Compression::kNone, Compression::kGzip}) {
    SCOPED_TRACE(std::string(compression_name(compression)));
    Destination dest = s3_dest(bucket, "rolling/" + std::string(compression_name(compression)));
    ScanOptions o = aws_.scan_options(table, dest);
    o.compression = compression;
    o.file_size = kFileSize;
    o.request.limit = kPage;
    o.total_segments = 2;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    const std::string run_id = summary->run.run_id;

    auto listed = aws_.read_all(dest, run_id + "/data/");
    ASSERT_TRUE(listed) << listed.error().to_string();
    std::map<std::string, const LocalAws::Stored*> objects;
    for (const auto& s : *listed) objects[s.key] = &s;
    EXPECT_GE(objects.size(), 6u) << "a small --file-size makes several files per segment";

    std::vector<Json> manifest = manifest_files(aws_, dest, run_id);
    ASSERT_EQ(manifest.size(), objects.size()) << "one manifest line per data file";
    uint64_t total = 0;
    // Per segment (data/SSSS-IIIII...), the files in order.
    std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> by_segment;
    for (const Json& m : manifest) {
      std::string key = string_member(m, "dataFileS3Key");
      auto it = objects.find(key);
      ASSERT_NE(it, objects.end()) << "manifest names a missing object " << key;
      const LocalAws::Stored& obj = *it->second;
      EXPECT_EQ(string_member(m, "md5Checksum"), md5_base64_of(obj.bytes)) << key;
      EXPECT_EQ(string_member(m, "etag"), obj.etag) << key;
      auto text = decompress(obj.bytes, compression);
      ASSERT_TRUE(text) << text.error().message;
      auto lines = split_lines(*text);
      ASSERT_TRUE(lines) << key << ": " << lines.error().message;
      uint64_t count = number_member(m, "itemCount");
      EXPECT_EQ(count, lines->size()) << key;
      total += count;
      size_t longest = 0;
      for (const auto& l : *lines) longest = std::max(longest, l.size() + 1);
      if (compression == Compression::kNone) {
        // It rolled at the first page end at or past the size: without its last page it was below it.
        EXPECT_LT(obj.bytes.size() - std::min<size_t>(obj.bytes.size(), kPage * longest), kFileSize) << key;
      }
      std::string name = key.substr(key.rfind('/') + 1);
      by_segment[name.substr(0, name.find('-'))].emplace_back(name, obj.bytes.size());
    }
    EXPECT_EQ(total, static_cast<uint64_t>(kItems));
    EXPECT_EQ(summary->run.item_count, static_cast<uint64_t>(kItems));
    ASSERT_EQ(by_segment.size(), 2u) << "files of both segments";
    for (auto& [segment, files] : by_segment) {
      std::sort(files.begin(), files.end());
      for (size_t i = 0; i + 1 < files.size(); ++i)
        EXPECT_GE(files[i].second, kFileSize) << "segment " << segment << " file " << files[i].first;
    }
    auto lines = read_run_lines(aws_, dest, run_id, compression);
    ASSERT_TRUE(lines) << lines.error().message;
    expect_same_items(*lines, items, OutputFormat::kJsonl);
  }
}

TEST_F(ScanTest, ParallelScansGiveEveryItemExactlyOnce) {
  const std::vector<TestItem> items = testing::simple_items(400, 20);
  const std::string table = aws_.make_table("parallel", items);
  const std::string bucket = aws_.make_bucket("parallel");
  for (int segments : {1, 8, 32}) {
    SCOPED_TRACE("segments " + std::to_string(segments));
    Destination dest = s3_dest(bucket, "p" + std::to_string(segments));
    ScanOptions o = aws_.scan_options(table, dest);
    o.total_segments = segments;
    o.compression = Compression::kZstd;
    o.request.limit = 25;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    EXPECT_EQ(summary->run.item_count, items.size());
    EXPECT_EQ(summary->run.total_segments, segments);
    std::set<int> file_segments;
    for (const auto& f : summary->run.files) {
      EXPECT_GE(f.segment, 0);
      EXPECT_LT(f.segment, segments);
      file_segments.insert(f.segment);
    }
    EXPECT_GT(file_segments.size(), static_cast<size_t>(segments) / 2) << "items spread over the segments";
    auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kZstd);
    ASSERT_TRUE(lines) << lines.error().message;
    int duplicates = 0;
    EXPECT_EQ(ids_once(*lines, OutputFormat::kJsonl, &duplicates), all_ids(items));
    EXPECT_EQ(duplicates, 0);
    Json s = manifest_summary(aws_, dest, summary->run.run_id);
    EXPECT_EQ(number_member(s, "totalSegments"), static_cast<uint64_t>(segments));
    EXPECT_EQ(number_member(s, "itemCount"), items.size());
  }
}

TEST_F(ScanTest, StoredBytesGrowWhileADataFileIsWritten) {
  const std::vector<TestItem> items = testing::simple_items(30, 40);
  const std::string table = aws_.make_table("stored-progress", items);
  const std::string bucket = aws_.make_bucket("stored-progress");
  Destination dest = s3_dest(bucket, "p");
  ScanOptions o = aws_.scan_options(table, dest);
  o.compression = Compression::kNone;  // every page's bytes reach the sink as the page is written
  o.request.limit = 10;                // three pages or more
  o.file_size = 1ull << 30;            // one data file for the whole table: it ends with the run
  ScanProgress progress;
  o.progress = &progress;
  // The item callback runs on the worker while it transcodes a page, after the previous page was written.
  uint64_t stored_seen = 0, files_seen = 0;
  o.item_callback = [&](std::string_view line, std::string& out) {
    stored_seen = std::max(stored_seen, progress.stored_bytes.load());
    files_seen = std::max(files_seen, progress.files.load());
    out.append(line);
    out.push_back('\n');
  };
  auto summary = run(o);
  ASSERT_TRUE(summary) << summary.error().to_string();
  ASSERT_EQ(summary->run.files.size(), 1u);
  EXPECT_EQ(files_seen, 0u) << "no data file had ended while items were transcoded";
  EXPECT_GT(stored_seen, 0u) << "the progress line's stored bytes stayed 0 until the data file ended";
  EXPECT_LT(stored_seen, summary->run.stored_bytes());
  EXPECT_EQ(progress.stored_bytes.load(), summary->run.stored_bytes());
  EXPECT_EQ(summary->run.stored_bytes(), summary->run.files[0].object.size);
}

TEST_F(ScanTest, SegmentsRunSeparatelyThenFinalizeGiveEveryItemOnce) {
  const std::vector<TestItem> items = testing::simple_items(200, 20);
  const std::string table = aws_.make_table("shared", items);
  const std::string bucket = aws_.make_bucket("shared");
  Destination dest = s3_dest(bucket, "shared");
  const std::string run_id = "run-shared-1";
  uint64_t scan_bytes = 0, pages = 0;
  for (int segment : {2, 0, 1}) {
    ScanOptions o = aws_.scan_options(table, dest);
    o.total_segments = 3;
    o.segment = segment;
    o.run_id = run_id;
    o.format = OutputFormat::kDynamoDbJson;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    EXPECT_EQ(summary->segment_manifest_key,
              "shared/" + run_id + "/segments/" + std::to_string(segment) + ".json");
    EXPECT_TRUE(summary->summary_key.empty());
    EXPECT_FALSE(summary_exists(aws_, dest, run_id)) << "one segment does not complete the run";
    scan_bytes += summary->run.scan_bytes;
    pages += summary->run.pages;
  }
  auto finalized = finalize_run(aws_.finalize_options(dest, run_id));
  ASSERT_TRUE(finalized) << finalized.error().to_string();
  EXPECT_EQ(finalized->run.item_count, items.size());
  // The segment manifests carry what the segments scanned; finalize sums it (was 0).
  EXPECT_GT(scan_bytes, 0u);
  EXPECT_EQ(finalized->run.scan_bytes, scan_bytes);
  EXPECT_EQ(finalized->run.pages, pages);
  EXPECT_GT(finalized->run.seconds, 0.0);
  EXPECT_EQ(finalized->summary_key, "shared/" + run_id + "/manifest-summary.json");

  auto lines = read_run_lines(aws_, dest, run_id, Compression::kGzip);
  ASSERT_TRUE(lines) << lines.error().message;
  expect_same_items(*lines, items, OutputFormat::kDynamoDbJson);
  Json s = manifest_summary(aws_, dest, run_id);
  EXPECT_EQ(number_member(s, "itemCount"), items.size());
  EXPECT_EQ(number_member(s, "totalSegments"), 3u);
  EXPECT_EQ(string_member(s, "outputFormat"), "DYNAMODB_JSON");
  uint64_t total = 0;
  auto data = aws_.read_all(dest, run_id + "/data/");
  ASSERT_TRUE(data);
  std::vector<Json> manifest = manifest_files(aws_, dest, run_id);
  EXPECT_EQ(manifest.size(), data->size());
  for (const Json& m : manifest) total += number_member(m, "itemCount");
  EXPECT_EQ(total, items.size());

  // Finalizing again is refused: the run is complete.
  auto again = finalize_run(aws_.finalize_options(dest, run_id));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().to_string().find("already complete"), std::string::npos)
      << again.error().to_string();
}

TEST_F(ScanTest, SharedScanIntoADirectoryFinalizes) {
  const std::vector<TestItem> items = testing::simple_items(90, 10);
  const std::string table = aws_.make_table("shared-dir", items);
  TempDir dir;
  auto dest = Destination::parse(dir.path() + "/shared");
  ASSERT_TRUE(dest);
  double consumed = 0;
  for (int segment = 0; segment < 4; ++segment) {
    ScanOptions o = aws_.scan_options(table, *dest);
    o.total_segments = 4;
    o.segment = segment;
    o.run_id = "dir-run";
    o.compression = Compression::kNone;
    o.request.filter_expression = "g = :g";
    o.request.expression_attribute_values_json = R"({":g":{"S":"odd"}})";
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    EXPECT_EQ(summary->segment_manifest_key, "dir-run/segments/" + std::to_string(segment) + ".json");
    consumed += summary->run.consumed_rcu;
  }
  auto finalized = finalize_run(aws_.finalize_options(*dest, "dir-run"));
  ASSERT_TRUE(finalized) << finalized.error().to_string();
  EXPECT_EQ(finalized->run.item_count, 45u);
  EXPECT_GT(consumed, 0);
  EXPECT_DOUBLE_EQ(finalized->run.consumed_rcu, consumed) << "the segments' consumed capacity, summed";
  std::vector<TestItem> odd;
  for (size_t i = 1; i < items.size(); i += 2) odd.push_back(items[i]);
  auto lines = read_run_lines(aws_, *dest, "dir-run", Compression::kNone);
  ASSERT_TRUE(lines) << lines.error().message;
  expect_same_items(*lines, odd, OutputFormat::kJsonl);
  Json s = manifest_summary(aws_, *dest, "dir-run");
  EXPECT_EQ(number_member(s, "itemCount"), 45u);
  EXPECT_EQ(number_member(s, "scannedCount"), 90u);
  EXPECT_EQ(string_member(s, "manifestFilesS3Key"), "dir-run/manifest-files.json");
  ASSERT_NE(s.find("scan"), nullptr);
  EXPECT_EQ(string_member(*s.find("scan"), "FilterExpression"), "g = :g") << "the segments' Scan parameters";
  for (const Json& m : manifest_files(aws_, *dest, "dir-run"))
    EXPECT_TRUE(string_member(m, "dataFileS3Key").starts_with("dir-run/data/"))
        << string_member(m, "dataFileS3Key");
}

TEST_F(ScanTest, FinalizeNamesMissingSegmentsAndRunsWithoutSegments) {
  const std::vector<TestItem> items = testing::simple_items(60, 10);
  const std::string table = aws_.make_table("missing-seg", items);
  const std::string bucket = aws_.make_bucket("missing-seg");
  Destination dest = s3_dest(bucket, "pre");
  const std::string run_id = "run-missing";
  for (int segment : {0, 2}) {
    ScanOptions o = aws_.scan_options(table, dest);
    o.total_segments = 3;
    o.segment = segment;
    o.run_id = run_id;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
  }
  auto finalized = finalize_run(aws_.finalize_options(dest, run_id));
  ASSERT_FALSE(finalized);
  const std::string text = finalized.error().to_string();
  EXPECT_EQ(finalized.error().code, "MissingSegments");
  EXPECT_NE(text.find("missing 1 of 3 segments: 1"), std::string::npos) << text;
  EXPECT_FALSE(summary_exists(aws_, dest, run_id));

  auto none = finalize_run(aws_.finalize_options(dest, "run-never-started"));
  ASSERT_FALSE(none);
  const std::string none_text = none.error().to_string();
  EXPECT_NE(none_text.find("run-never-started"), std::string::npos) << none_text;
  EXPECT_NE(none_text.find("s3://" + bucket + "/pre/run-never-started/segments/"), std::string::npos)
      << none_text;
  EXPECT_FALSE(summary_exists(aws_, dest, "run-never-started"));
}

TEST_F(ScanTest, ScanFieldsApply) {
  const std::vector<TestItem> items = testing::simple_items(120, 10);
  const std::string table = aws_.make_table("fields", items, /*with_index=*/true);
  const std::string bucket = aws_.make_bucket("fields");
  std::vector<TestItem> even;
  for (const auto& i : items)
    if (i.written.find("\"even\"") != std::string::npos) even.push_back(i);
  ASSERT_EQ(even.size(), 60u);

  // Filter with names and values, consistent read, a page size.
  {
    Destination dest = s3_dest(bucket, "filter");
    ScanOptions o = aws_.scan_options(table, dest);
    o.request.filter_expression = "#g = :g AND #n >= :min";
    o.request.expression_attribute_names_json = R"({"#g":"g","#n":"n"})";
    o.request.expression_attribute_values_json = R"({":g":{"S":"even"},":min":{"N":"0"}})";
    o.request.consistent_read = true;
    o.request.limit = 10;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    EXPECT_EQ(summary->run.item_count, even.size());
    EXPECT_EQ(summary->run.scanned_count, items.size());
    EXPECT_GE(summary->run.pages, 12u) << "Limit 10 over 120 items";
    auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kGzip);
    ASSERT_TRUE(lines);
    expect_same_items(*lines, even, OutputFormat::kJsonl);
    Json s = manifest_summary(aws_, dest, summary->run.run_id);
    const Json* scan = s.find("scan");
    ASSERT_NE(scan, nullptr);
    EXPECT_EQ(string_member(*scan, "FilterExpression"), "#g = :g AND #n >= :min");
    EXPECT_EQ(string_member(*scan, "TableName"), table);
    ASSERT_NE(scan->find("ConsistentRead"), nullptr);
    EXPECT_EQ(scan->find("ConsistentRead")->text, "true");
  }
  // Projection: only the projected attributes are written.
  {
    Destination dest = s3_dest(bucket, "projection");
    ScanOptions o = aws_.scan_options(table, dest);
    o.request.projection_expression = "id, #n";
    o.request.expression_attribute_names_json = R"({"#n":"n"})";
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kGzip);
    ASSERT_TRUE(lines);
    ASSERT_EQ(lines->size(), items.size());
    for (const auto& line : *lines) {
      Json j = parse_or_fail(line);
      ASSERT_EQ(j.members.size(), 2u) << line;
      EXPECT_NE(j.find("id"), nullptr) << line;
      ASSERT_NE(j.find("n"), nullptr) << line;
      EXPECT_TRUE(j.find("n")->is(Json::Kind::kNumber)) << line;
    }
  }
  // A secondary index.
  {
    Destination dest = s3_dest(bucket, "index");
    ScanOptions o = aws_.scan_options(table, dest);
    o.request.index_name = "by-g";
    o.format = OutputFormat::kDynamoDbJson;
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kGzip);
    ASSERT_TRUE(lines);
    expect_same_items(*lines, items, OutputFormat::kDynamoDbJson);
    Json s = manifest_summary(aws_, dest, summary->run.run_id);
    ASSERT_NE(s.find("scan"), nullptr);
    EXPECT_EQ(string_member(*s.find("scan"), "IndexName"), "by-g");
  }
}

TEST_F(ScanTest, LocalDirectoryHasTheSameLayout) {
  const std::vector<TestItem> items = testing::simple_items(150, 30);
  const std::string table = aws_.make_table("local", items);
  TempDir dir;
  auto dest = Destination::parse(dir.path() + "/export");
  ASSERT_TRUE(dest) << dest.error().to_string();
  ScanOptions o = aws_.scan_options(table, *dest);
  o.file_size = 1000;
  o.request.limit = 20;
  o.total_segments = 2;
  o.run_id = "local-run";
  auto summary = run(o);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->summary_key, "local-run/manifest-summary.json");

  auto all = aws_.read_all(*dest, "");
  ASSERT_TRUE(all) << all.error().to_string();
  std::set<std::string> keys;
  for (const auto& f : *all) {
    keys.insert(f.key);
    EXPECT_FALSE(f.key.ends_with(".partial")) << f.key;
    EXPECT_TRUE(f.key.starts_with("local-run/data/") || f.key == "local-run/manifest-files.json" ||
                f.key == "local-run/manifest-summary.json" ||
                f.key == "local-run/checkpoints/segment-0.json" ||
                f.key == "local-run/checkpoints/segment-1.json")
        << f.key;
  }
  EXPECT_TRUE(keys.count("local-run/checkpoints/segment-1.json")) << "each segment's checkpoint, for resume";
  EXPECT_TRUE(keys.count("local-run/manifest-files.json"));
  EXPECT_TRUE(keys.count("local-run/manifest-summary.json"));
  std::vector<Json> manifest = manifest_files(aws_, *dest, "local-run");
  EXPECT_GT(manifest.size(), 2u) << summary->summary_key;
  EXPECT_EQ(manifest.size() + 2 + 2, keys.size());  // the data files, two manifests, two checkpoints
  for (const Json& m : manifest) {
    std::string key = string_member(m, "dataFileS3Key");
    EXPECT_TRUE(key.starts_with("local-run/data/")) << "relative to DEST: " << key;
    auto bytes = aws_.read(*dest, key);
    ASSERT_TRUE(bytes && bytes->has_value()) << key;
    EXPECT_EQ(string_member(m, "md5Checksum"), md5_base64_of(**bytes));
  }
  Json s = manifest_summary(aws_, *dest, "local-run");
  EXPECT_EQ(string_member(s, "manifestFilesS3Key"), "local-run/manifest-files.json");
  EXPECT_EQ(string_member(s, "s3Prefix"), dir.path() + "/export");
  auto lines = read_run_lines(aws_, *dest, "local-run", Compression::kGzip);
  ASSERT_TRUE(lines) << lines.error().message;
  expect_same_items(*lines, items, OutputFormat::kJsonl);
}

TEST_F(ScanTest, ManifestSummaryHasEveryField) {
  const std::vector<TestItem> items = testing::simple_items(30, 10);
  const std::string table = aws_.make_table("summary", items);
  const std::string bucket = aws_.make_bucket("summary");
  Destination dest = s3_dest(bucket, "a/b");
  ScanOptions o = aws_.scan_options(table, dest);
  o.format = OutputFormat::kDynamoDbJson;
  o.compression = Compression::kZstd;
  o.run_id = "summary-run";
  auto summary = run(o);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->summary_key, "a/b/summary-run/manifest-summary.json");

  Json s = manifest_summary(aws_, dest, "summary-run");
  EXPECT_EQ(string_member(s, "version"), "2020-06-30");
  EXPECT_EQ(string_member(s, "runId"), "summary-run");
  EXPECT_EQ(string_member(s, "tableArn"), summary->run.table_arn);
  EXPECT_TRUE(summary->run.table_arn.starts_with("arn:aws:dynamodb:")) << summary->run.table_arn;
  EXPECT_TRUE(summary->run.table_arn.ends_with(":table/" + table)) << summary->run.table_arn;
  EXPECT_EQ(string_member(s, "s3Bucket"), bucket);
  EXPECT_EQ(string_member(s, "s3Prefix"), "a/b");
  ASSERT_NE(s.find("s3SseAlgorithm"), nullptr);
  EXPECT_TRUE(s.find("s3SseAlgorithm")->is(Json::Kind::kNull));
  ASSERT_NE(s.find("s3SseKmsKeyId"), nullptr);
  EXPECT_TRUE(s.find("s3SseKmsKeyId")->is(Json::Kind::kNull));
  EXPECT_EQ(string_member(s, "manifestFilesS3Key"), "a/b/summary-run/manifest-files.json");
  EXPECT_EQ(number_member(s, "itemCount"), items.size());
  EXPECT_EQ(string_member(s, "outputFormat"), "DYNAMODB_JSON");
  EXPECT_EQ(string_member(s, "exportType"), "SCAN");
  EXPECT_EQ(string_member(s, "compression"), "zstd");
  EXPECT_EQ(number_member(s, "fileCount"), manifest_files(aws_, dest, "summary-run").size());
  EXPECT_EQ(number_member(s, "totalSegments"), 1u);
  ASSERT_NE(s.find("scan"), nullptr);
  EXPECT_TRUE(s.find("scan")->is(Json::Kind::kObject));
  const std::string start = string_member(s, "startTime"), end = string_member(s, "endTime");
  EXPECT_EQ(start.size(), 24u) << start;  // 2026-11-26T15:30:00.123Z
  EXPECT_TRUE(start.ends_with("Z")) << start;
  EXPECT_LE(start, end);
  EXPECT_EQ(start, summary->run.start_time);
  // What the scan read in capacity units, as DynamoDB reported it per page (ReturnConsumedCapacity TOTAL).
  ASSERT_NE(s.find("consumedReadCapacityUnits"), nullptr);
  EXPECT_GT(summary->run.consumed_rcu, 0);
  EXPECT_DOUBLE_EQ(std::stod(s.find("consumedReadCapacityUnits")->text), summary->run.consumed_rcu);
  EXPECT_EQ(summary->run.throttles, 0u);
  EXPECT_FALSE(summary->read_limit);

  // JSONL names its format so.
  ScanOptions jl = aws_.scan_options(table, dest);
  jl.run_id = "summary-jsonl";
  ASSERT_TRUE(run(jl));
  EXPECT_EQ(string_member(manifest_summary(aws_, dest, "summary-jsonl"), "outputFormat"), "JSONL");
  EXPECT_EQ(string_member(manifest_summary(aws_, dest, "summary-jsonl"), "compression"), "gzip");
}

TEST_F(ScanTest, EmptyTableAndEmptyFilterGiveManifestsWithNoDataFiles) {
  const std::string empty_table = aws_.make_table("empty", {});
  const std::string table = aws_.make_table("nomatch", testing::simple_items(20, 10));
  const std::string bucket = aws_.make_bucket("empty");
  for (bool filter : {false, true}) {
    SCOPED_TRACE(filter ? "a filter matching nothing" : "an empty table");
    Destination dest = s3_dest(bucket, filter ? "filter" : "empty");
    ScanOptions o = aws_.scan_options(filter ? table : empty_table, dest);
    if (filter) {
      o.request.filter_expression = "g = :v";
      o.request.expression_attribute_values_json = R"({":v":{"S":"nothing has this"}})";
    }
    auto summary = run(o);
    ASSERT_TRUE(summary) << summary.error().to_string();
    EXPECT_EQ(summary->run.item_count, 0u);
    EXPECT_TRUE(summary->run.files.empty());
    auto data = aws_.read_all(dest, summary->run.run_id + "/data/");
    ASSERT_TRUE(data);
    EXPECT_TRUE(data->empty());
    auto files = aws_.read(dest, summary->run.run_id + "/manifest-files.json");
    ASSERT_TRUE(files && files->has_value());
    EXPECT_EQ(**files, "");
    Json s = manifest_summary(aws_, dest, summary->run.run_id);
    EXPECT_EQ(number_member(s, "itemCount"), 0u);
    EXPECT_EQ(number_member(s, "fileCount"), 0u);
  }
}

TEST_F(ScanTest, FailuresSayWhatFailedAndLeaveNoSummary) {
  const std::string table = aws_.make_table("fail", testing::simple_items(20, 10));
  const std::string bucket = aws_.make_bucket("fail");
  Destination dest = s3_dest(bucket, "f");
  {
    ScanOptions o = aws_.scan_options("no-such-table-here", dest);
    o.run_id = "missing-table";
    auto r = run(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ResourceNotFoundException");
    EXPECT_NE(r.error().to_string().find("no-such-table-here"), std::string::npos) << r.error().to_string();
    EXPECT_FALSE(summary_exists(aws_, dest, "missing-table"));
  }
  {
    ScanOptions o = aws_.scan_options(table, s3_dest("no-such-bucket-here", "x"));
    auto r = run(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NoSuchBucket");
    EXPECT_NE(r.error().to_string().find("no-such-bucket-here"), std::string::npos) << r.error().to_string();
  }
  {
    ScanOptions o = aws_.scan_options(table, dest);
    o.run_id = "bad-filter";
    o.request.filter_expression = "g = = :v";
    o.request.expression_attribute_values_json = R"({":v":{"S":"x"}})";
    auto r = run(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "ValidationException");
    EXPECT_NE(r.error().to_string().find("FilterExpression"), std::string::npos) << r.error().to_string();
    EXPECT_FALSE(summary_exists(aws_, dest, "bad-filter"));
    auto data = aws_.read_all(dest, "bad-filter/");
    ASSERT_TRUE(data);
    EXPECT_TRUE(data->empty());
  }
  {
    ScanOptions o = aws_.scan_options(table, dest);
    o.env.set("AWS_ACCESS_KEY_ID", "NOT-A-KEY");  // s3rver knows only S3RVER
    o.run_id = "bad-key";
    auto r = run(o);
    ASSERT_FALSE(r);
    // HeadBucket comes first; its bare 403 is explained by a one-key listing: s3rver's InvalidAccessKeyId.
    EXPECT_EQ(r.error().http_status, 403) << r.error().to_string();
    EXPECT_EQ(r.error().code, "InvalidAccessKeyId") << r.error().to_string();
    EXPECT_FALSE(summary_exists(aws_, dest, "bad-key"));
  }
}

// A segment reads a page's fields in the transcoder's one walk of it (DynamoDbClient::scan_body): a
// LastEvaluatedKey that is not one whole key still fails the run at once, as a server error, and never
// goes back to DynamoDB as ExclusiveStartKey.
TEST(ScanAnswers, AMalformedLastEvaluatedKeyFailsTheRunAndIsNeverSentBack) {
  for (const char* key : {R"({"id":{"S":"a"} "x":{"S":"b"}})", R"({"id":{"S":"a"},})", R"({"id":"a"})",
                          R"({"id":{"S":"a\x"}})", R"({})", R"("id")"}) {
    SCOPED_TRACE(key);
    testing::TestHttpServer server;
    std::atomic<int> scans{0};
    std::atomic<bool> key_sent_back{false};
    server.serve_all([&](const httplib::Request& req, httplib::Response& res) {
      std::string body;
      if (req.get_header_value("X-Amz-Target").ends_with(".DescribeTable")) {
        body = R"({"Table":{"TableName":"t","TableStatus":"ACTIVE","ItemCount":1,"TableSizeBytes":20,)"
               R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]}})";
      } else {
        ++scans;
        if (req.body.find("ExclusiveStartKey") != std::string::npos) key_sent_back = true;
        body = std::string(R"({"Count":1,"Items":[{"id":{"S":"a"}}],"ScannedCount":1,"LastEvaluatedKey":)") +
               key + "}";
      }
      res.set_content(body, "application/x-amz-json-1.0");
    });
    server.start();
    testing::TempHome home;
    testing::TempDir out;
    ScanOptions o;
    o.table = "t";
    o.source.endpoint_url = server.url();
    auto dest = Destination::parse(out.path());
    ASSERT_TRUE(dest) << dest.error().to_string();
    o.dest = *dest;
    o.env =
        home.env({{"AWS_ACCESS_KEY_ID", "x"}, {"AWS_SECRET_ACCESS_KEY", "y"}, {"AWS_REGION", "us-east-1"}});
    auto r = run_scan(o);
    ASSERT_FALSE(r) << "accepted LastEvaluatedKey " << key;
    EXPECT_EQ(r.error().kind, ErrorKind::kInternal) << r.error().to_string();
    EXPECT_FALSE(r.error().retryable());
    EXPECT_EQ(r.error().operation, "Scan");
    EXPECT_NE(r.error().message.find("LastEvaluatedKey"), std::string::npos) << r.error().to_string();
    EXPECT_EQ(scans.load(), 1);
    EXPECT_FALSE(key_sent_back.load());
  }
}

TEST_F(ScanTest, BadOptionsAreUsageErrorsBeforeAnyAwsCall) {
  // Endpoints where nothing listens: a usage error must come before any call would fail.
  Destination dest = s3_dest("bucket", "p");
  auto closed = [&] {
    ScanOptions o = aws_.scan_options("t", dest);
    o.source.endpoint_url = "http://127.0.0.1:9";
    o.dest_aws.endpoint_url = "http://127.0.0.1:9";
    return o;
  };
  // The option at fault is named as its ScanOptions member (a library user has no flags), in the message
  // and as the Error's field.
  struct Case {
    std::string what, expected, field;
    std::function<void(ScanOptions&)> change;
  };
  const std::vector<Case> cases = {
      {"file size 0", "file_size must be at least 1 byte", "file_size",
       [](ScanOptions& o) { o.file_size = 0; }},
      {"segment without run id", "segment needs run_id", "run_id",
       [](ScanOptions& o) {
         o.total_segments = 3;
         o.segment = 1;
       }},
      {"segment out of range", "segment must be from 0 to total_segments - 1 (2), not 3", "segment",
       [](ScanOptions& o) {
         o.total_segments = 3;
         o.segment = 3;
         o.run_id.assign(3, 'r');  // (assign: GCC 12 warns falsely on a short literal here)
       }},
      {"gzip level 9", "compression_level 9 is out of range for gzip", "compression_level",
       [](ScanOptions& o) { o.compression_level = 9; }},
      {"zstd level 20", "compression_level 20 is out of range for zstd", "compression_level",
       [](ScanOptions& o) {
         o.compression = Compression::kZstd;
         o.compression_level = 20;
       }},
      {"level without compression", "compression_level does not apply to compression none",
       "compression_level",
       [](ScanOptions& o) {
         o.compression = Compression::kNone;
         o.compression_level = 1;
       }},
      {"bad run id", "run_id 'a/b' may only hold", "run_id", [](ScanOptions& o) { o.run_id = "a/b"; }},
      {"zero segments", "total_segments must be from 1 to 1000000", "total_segments",
       [](ScanOptions& o) { o.total_segments = 0; }},
      {"negative parallelism", "parallelism must be 0 (the default) or more", "parallelism",
       [](ScanOptions& o) { o.parallelism = -1; }},
      {"limit past 32 bits", "Limit must be from 1 to 2147483647", "Limit",
       [](ScanOptions& o) { o.request.limit = int64_t{1} << 31; }},
      {"max rcu 0", "max_rcu must be a number of read capacity units per second above 0", "max_rcu",
       [](ScanOptions& o) { o.max_rcu = 0; }},
      {"percent past 100", "read_capacity_percent must be above 0 and at most 100", "read_capacity_percent",
       [](ScanOptions& o) { o.read_capacity_percent = 101; }},
      {"a limit without consumed capacity", "ReturnConsumedCapacity NONE hides it", "max_rcu",
       [](ScanOptions& o) {
         o.max_rcu = 100;
         o.request.return_consumed_capacity = "NONE";
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ScanOptions o = closed();
    c.change(o);
    auto r = run(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage) << r.error().to_string();
    EXPECT_NE(r.error().to_string().find(c.expected), std::string::npos) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field);
    EXPECT_EQ(r.error().to_string().find("--"), std::string::npos) << "no CLI flag in a library error";
  }
  // The same options against a closed port are a connection failure, not a usage error.
  ScanOptions o = closed();
  o.session.max_attempts = 1;
  auto r = run(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().kind, ErrorKind::kUsage);
}

// Against dynalite, an on-demand table that reports no read capacity but 0: max_rcu paces the copy, which
// gets every item; read_capacity_percent has no base and is a usage error asking for max_rcu (after
// DescribeTable, before any Scan).
TEST_F(ScanTest, ReadCapacityLimitsOnAnOnDemandTable) {
  const std::vector<TestItem> items = testing::simple_items(200, 100);
  const std::string table = aws_.make_table("rcu", items);
  const std::string bucket = aws_.make_bucket("rcu");
  Destination dest = s3_dest(bucket, "paced");
  ScanOptions o = aws_.scan_options(table, dest);
  o.total_segments = 2;
  o.max_rcu = 1000;
  auto summary = run(o);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->run.item_count, items.size());
  EXPECT_GT(summary->run.consumed_rcu, 0);
  ASSERT_TRUE(summary->read_limit);
  EXPECT_DOUBLE_EQ(summary->read_limit->rcu_per_second, 1000);
  auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kGzip);
  ASSERT_TRUE(lines);
  expect_same_items(*lines, items, OutputFormat::kJsonl);

  ScanOptions p = aws_.scan_options(table, s3_dest(bucket, "percent"));
  p.read_capacity_percent = 50;
  auto refused = run(p);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(refused.error().field, "read_capacity_percent");
  EXPECT_NE(refused.error().to_string().find("is on-demand"), std::string::npos)
      << refused.error().to_string();
  EXPECT_NE(refused.error().to_string().find("give max_rcu"), std::string::npos)
      << refused.error().to_string();
}

TEST_F(ScanTest, ARunIdAlreadyCompleteIsRefused) {
  const std::vector<TestItem> items = testing::simple_items(10, 10);
  const std::string table = aws_.make_table("rerun", items);
  const std::string bucket = aws_.make_bucket("rerun");
  Destination dest = s3_dest(bucket, "");
  ScanOptions o = aws_.scan_options(table, dest);
  o.run_id = "done-run";
  auto first = run(o);
  ASSERT_TRUE(first) << first.error().to_string();
  auto before = aws_.read(dest, "done-run/manifest-summary.json");
  ASSERT_TRUE(before && before->has_value());

  auto again = run(o);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "RunAlreadyComplete");
  EXPECT_NE(again.error().kind, ErrorKind::kUsage) << "found by reading the destination: not a usage error";
  EXPECT_NE(again.error().to_string().find("already complete"), std::string::npos)
      << again.error().to_string();
  EXPECT_NE(again.error().to_string().find("done-run"), std::string::npos);
  auto after = aws_.read(dest, "done-run/manifest-summary.json");
  ASSERT_TRUE(after && after->has_value());
  EXPECT_EQ(**after, **before) << "the finished run is left as it was";
}

TEST_F(ScanTest, ItemCallbackTransformsAndDropsItems) {
  const std::vector<TestItem> items = testing::simple_items(100, 10);
  const std::string table = aws_.make_table("callback", items);
  const std::string bucket = aws_.make_bucket("callback");
  Destination dest = s3_dest(bucket, "cb");
  ScanOptions o = aws_.scan_options(table, dest);
  o.total_segments = 4;
  o.request.limit = 9;
  o.compression = Compression::kNone;
  // Keep even items only, each wrapped in an envelope (called from several worker threads: stateless).
  o.item_callback = [](std::string_view line, std::string& out) {
    if (line.find("\"g\":\"odd\"") != std::string_view::npos) return;
    out += "{\"wrapped\":";
    out += line;
    out += ",\"v\":1}\n";
  };
  auto summary = run(o);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->run.item_count, 50u);
  auto lines = read_run_lines(aws_, dest, summary->run.run_id, Compression::kNone);
  ASSERT_TRUE(lines) << lines.error().message;
  ASSERT_EQ(lines->size(), 50u);
  std::set<std::string> ids;
  for (const auto& line : *lines) {
    Json j = parse_or_fail(line);
    const Json* inner = j.find("wrapped");
    ASSERT_NE(inner, nullptr) << line;
    EXPECT_EQ(string_member(*inner, "g"), "even") << line;
    ASSERT_NE(j.find("v"), nullptr);
    EXPECT_EQ(j.find("v")->text, "1");
    ids.insert(string_member(*inner, "id"));
  }
  EXPECT_EQ(ids.size(), 50u);
  uint64_t total = 0;
  for (const Json& m : manifest_files(aws_, dest, summary->run.run_id)) total += number_member(m, "itemCount");
  EXPECT_EQ(total, 50u) << "manifests count the items written, not the items scanned";
  EXPECT_EQ(number_member(manifest_summary(aws_, dest, summary->run.run_id), "itemCount"), 50u);
}

TEST_F(ScanTest, CancellingMidRunLeavesNoSummaryAndNoPartialFiles) {
  const std::vector<TestItem> items = testing::simple_items(200, 20);
  const std::string table = aws_.make_table("cancel", items);
  const std::string bucket = aws_.make_bucket("cancel");
  TempDir dir;
  auto local = Destination::parse(dir.path() + "/out");
  ASSERT_TRUE(local);
  for (const Destination& dest : {s3_dest(bucket, "c"), *local}) {
    SCOPED_TRACE(dest.is_s3 ? "s3" : "directory");
    std::atomic<bool> cancel{false};
    std::atomic<int> seen{0};
    ScanOptions o = aws_.scan_options(table, dest);
    o.run_id = "cancelled";
    o.total_segments = 2;
    o.request.limit = 10;
    o.file_size = 500;
    o.cancel = &cancel;
    // As a Ctrl-C would, part way through: after some items were written.
    o.item_callback = [&](std::string_view line, std::string& out) {
      out += line;
      out += '\n';
      if (seen.fetch_add(1) == 60) cancel = true;
    };
    auto r = run(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kCancelled) << r.error().to_string();
    EXPECT_FALSE(summary_exists(aws_, dest, "cancelled"));
    auto left = aws_.read_all(dest, "cancelled/");
    ASSERT_TRUE(left) << left.error().to_string();
    for (const auto& f : *left) {
      EXPECT_FALSE(f.key.ends_with(".partial")) << f.key;
      EXPECT_FALSE(f.key.ends_with("manifest-files.json")) << f.key;
    }
  }
}

}  // namespace
}  // namespace ddb2s3

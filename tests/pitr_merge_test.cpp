// Merge end to end: dynalite holds the table, the export test server writes full and incremental exports
// computed from dynalite's snapshots into s3rver, merge_exports() applies them, and the merged snapshot's
// items must equal a fresh scan of the table exactly.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "aws/session.h"
#include "dynamodb/dynamodb.h"
#include "pitr/merge.h"
#include "pitr/pitr.h"
#include "s3/s3.h"
#include "scan/scan.h"
#include "support/export_server.h"
#include "support/pitr_fixtures.h"
#include "support/process.h"
#include "support/scan_fixtures.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::ExportServer;
using testing::Json;
using testing::LocalAws;

using testing::now_seconds;

constexpr const char* kBig = "12345678901234567890123456789012345678";  // 38 digits

class PitrMergeTest : public testing::PitrFixture {
 protected:
  void SetUp() override { open("merge"); }

  // Runs an export to completion; returns its folder, s3://BUCKET/exports/AWSDynamoDB/<ExportId>.
  std::string run(ExportOptions o) {
    o.table = table_;
    o.source.endpoint_url = server_.url();
    o.s3_bucket = bucket_;
    o.s3_prefix = "exports";
    o.env = aws_.env();
    o.wait_options.check_interval_seconds = 0;
    auto outcome = run_export(o);
    EXPECT_TRUE(outcome.ok()) << outcome.error().to_string();
    if (!outcome) return {};
    EXPECT_EQ(outcome->state, ExportState::kCompleted) << outcome->description.failure_message;
    const std::string manifest = outcome->description.export_manifest;
    return "s3://" + bucket_ + "/" + manifest.substr(0, manifest.rfind('/'));
  }
  std::string full_export(double at) {
    ExportOptions o;
    o.export_time = at;
    return run(o);
  }
  std::string incremental_export(double from, double to, const std::string& view) {
    ExportOptions o;
    o.export_type = "INCREMENTAL_EXPORT";
    o.export_from_time = from;
    o.export_to_time = to;
    o.export_view_type = view;
    return run(o);
  }

  MergeOptions merge_options(const std::string& base, std::vector<std::string> incrementals,
                             const std::string& to_prefix) {
    MergeOptions m;
    m.base = base;
    m.incrementals = std::move(incrementals);
    m.to = "s3://" + bucket_ + "/" + to_prefix;
    m.s3.endpoint_url = aws_.s3_endpoint();
    m.env = aws_.env();
    return m;
  }

  std::vector<std::string> merged(const std::string& to_prefix) { return items_at(to_prefix); }

  // A JSON object stored under prefix (a manifest).
  Json read_json(const std::string& prefix, const std::string& name) {
    auto text = aws_.read(folder(prefix), name);
    EXPECT_TRUE(text.ok() && text->has_value()) << prefix << "/" << name;
    if (!text.ok() || !text->has_value()) return {};
    auto json = testing::parse_json(**text);
    EXPECT_TRUE(json.ok()) << **text;
    return json ? *json : Json{};
  }
  bool exists(const std::string& prefix, const std::string& name) {
    auto text = aws_.read(folder(prefix), name);
    EXPECT_TRUE(text.ok());
    return text.ok() && text->has_value();
  }
  // Keys under prefix/relative (full S3 keys), sorted.
  std::vector<std::string> keys_under(const std::string& prefix, const std::string& relative) {
    std::vector<std::string> keys;
    auto stored = aws_.read_all(folder(prefix), relative);
    EXPECT_TRUE(stored.ok());
    if (stored)
      for (const auto& object : *stored) keys.push_back(object.key);
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  void put_object(const std::string& key, const std::string& bytes) {
    ASSERT_TRUE(s3().put_object(bucket_, key, bytes).ok());
  }

  // A table of 60 items, a full export of it and two incremental exports that update, delete and add items
  // in every partition; returns {base, inc1, inc2}.
  std::vector<std::string> three_exports() {
    const double t0 = std::floor(now_seconds()) - 3 * 3600, t1 = t0 + 1800, t2 = t1 + 1800;
    std::vector<std::string> items;
    for (int i = 0; i < 60; ++i)
      items.push_back(R"({"id":{"S":"item-)" + std::to_string(i) + R"("},"n":{"N":")" + kBig + R"("}})");
    put(items);
    snapshot(t0);
    const std::string base = full_export(t0);
    items.clear();
    std::vector<std::string> gone;
    for (int i = 0; i < 60; i += 3)
      items.push_back(R"({"id":{"S":"item-)" + std::to_string(i) + R"("},"n":{"N":"-1"}})");
    for (int i = 1; i < 60; i += 7) gone.push_back("item-" + std::to_string(i));
    put(items);
    remove(gone);
    snapshot(t1);
    const std::string inc1 = incremental_export(t0, t1, "NEW_AND_OLD_IMAGES");
    items.clear();
    for (int i = 0; i < 20; ++i)
      items.push_back(R"({"id":{"S":"new-)" + std::to_string(i) + R"("},"ss":{"SS":["x","y"]}})");
    items.push_back(R"({"id":{"S":"item-1"},"back":{"BOOL":true}})");  // deleted, then back
    put(items);
    remove({"item-2", "item-3"});
    snapshot(t2);
    const std::string inc2 = incremental_export(t1, t2, "NEW_IMAGE");
    EXPECT_FALSE(base.empty() || inc1.empty() || inc2.empty());
    return {base, inc1, inc2};
  }
};

constexpr const char* kBig2 = "-0.00000000000000000000000000000000000001";  // 38 significant digits
constexpr const char* kBig3 = "98765432109876543210987654321098765432";

TEST_F(PitrMergeTest, ThreeRoundsOfChangesMergeIntoTheTableAsAFreshScanSeesIt) {
  const double t0 = std::floor(now_seconds()) - 4 * 3600;  // whole seconds: requests carry milliseconds
  const double t1 = t0 + 3600, t2 = t1 + 3600, t3 = t2 + 3600;
  put({R"({"id":{"S":"keep"},"s":{"S":"unchanged \"quoted\" é"}})",
       std::string(R"({"id":{"S":"big"},"n":{"N":")") + kBig + R"("}})",
       std::string(R"({"id":{"S":"sets"},"ss":{"SS":["a","b"]},"ns":{"NS":["1",")") + kBig +
           R"("]},"bs":{"BS":["AAEC","/w=="]}})",
       R"({"id":{"S":"bin"},"b":{"B":"3q2+7w=="},"nul":{"NULL":true},"t":{"BOOL":true}})",
       R"({"id":{"S":"upd"},"n":{"N":"1"}})", R"({"id":{"S":"del"},"n":{"N":"2"}})",
       R"({"id":{"S":"recreate"},"v":{"S":"first life"}})"});
  snapshot(t0);
  const std::string base = full_export(t0);

  // Round 1: an update, deletes, a new item, an item created and deleted in the same window.
  put({std::string(R"({"id":{"S":"upd"},"n":{"N":")") + kBig2 + R"("},"added":{"L":[{"S":"x"},{"N":"3"}]}})",
       R"({"id":{"S":"new1"},"m":{"M":{"z":{"S":"last"},"a":{"N":"0.5"}}}})",
       R"({"id":{"S":"ephemeral"},"v":{"S":"gone soon"}})"});
  remove({"del", "recreate", "ephemeral"});
  snapshot(t1);
  const std::string inc1 = incremental_export(t0, t1, "NEW_AND_OLD_IMAGES");

  // Round 2: the deleted key comes back with other attributes; sets change; another short-lived item.
  put({R"({"id":{"S":"recreate"},"w":{"N":"42"},"ss":{"SS":["second","life"]}})",
       R"({"id":{"S":"new1"},"m":{"M":{"z":{"S":"changed"}}}})",
       std::string(R"({"id":{"S":"sets"},"ss":{"SS":["a","b","c"]},"ns":{"NS":[")") + kBig3 +
           R"("]},"bs":{"BS":["AAEC"]}})",
       R"({"id":{"S":"ephemeral2"},"v":{"S":"x"}})"});
  remove({"ephemeral2"});
  snapshot(t2);
  const std::string inc2 = incremental_export(t1, t2, "NEW_IMAGE");

  // Round 3: a delete, a 38-digit update, an item put then updated in the same window.
  put({std::string(R"({"id":{"S":"big"},"n":{"N":")") + kBig3 + R"("}})",
       R"({"id":{"S":"late"},"v":{"N":"1"}})"});
  put({R"({"id":{"S":"late"},"v":{"N":"2"},"nested":{"M":{"l":{"L":[{"M":{"k":{"SS":["q"]}}}]}}}})"});
  remove({"new1"});
  snapshot(t3);
  const std::string inc3 = incremental_export(t2, t3, "NEW_AND_OLD_IMAGES");
  ASSERT_FALSE(base.empty() || inc1.empty() || inc2.empty() || inc3.empty());

  const auto expected = scanned();
  ASSERT_EQ(expected.size(), 7u);

  auto one = merge_exports(merge_options(base, {inc1, inc2, inc3}, "merged/one"));
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(merged("merged/one"), expected);
  EXPECT_EQ(one->items, 7);
  EXPECT_EQ(one->base_items, 7);

  // Four partitions, and a key given instead of read from the records: the same snapshot.
  auto options = merge_options(base, {inc1, inc2, inc3}, "merged/four");
  options.partitions = 4;
  options.key_attributes = {"id"};
  options.read_size = 7;    // lines and gzip members across reads
  options.file_size = 150;  // several data files per partition
  auto four = merge_exports(options);
  ASSERT_TRUE(four.ok()) << four.error().to_string();
  EXPECT_EQ(merged("merged/four"), expected);

  // A merge's output is a base: merging round by round gives the same snapshot.
  ASSERT_TRUE(merge_exports(merge_options(base, {inc1}, "merged/r1")).ok());
  ASSERT_TRUE(merge_exports(merge_options("s3://" + bucket_ + "/merged/r1", {inc2}, "merged/r2")).ok());
  auto r3 = merge_exports(
      merge_options("s3://" + bucket_ + "/merged/r2/manifest-summary.json", {inc3}, "merged/r3"));
  ASSERT_TRUE(r3.ok()) << r3.error().to_string();
  EXPECT_EQ(merged("merged/r3"), expected);

  // The manifests: one line per data file, with its item count; the summary written last.
  Destination d;
  d.is_s3 = true;
  d.bucket = bucket_;
  d.prefix = "merged/four";
  auto files = aws_.read(d, "manifest-files.json");
  ASSERT_TRUE(files.ok() && files->has_value());
  auto lines = testing::split_lines(**files);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->size(), four->files.size());
  int64_t counted = 0;
  for (const auto& line : *lines) {
    auto json = testing::parse_json(line);
    ASSERT_TRUE(json.ok());
    counted += std::stoll(json->find("itemCount")->text);
    EXPECT_NE(json->find("md5Checksum"), nullptr);
    EXPECT_NE(json->find("dataFileS3Key"), nullptr);
  }
  EXPECT_EQ(counted, 7);
  auto summary = aws_.read(d, "manifest-summary.json");
  ASSERT_TRUE(summary.ok() && summary->has_value());
  auto summary_json = testing::parse_json(**summary);
  ASSERT_TRUE(summary_json.ok());
  EXPECT_EQ(summary_json->find("itemCount")->text, "7");
  EXPECT_EQ(summary_json->find("exportType")->text, "FULL_EXPORT");

  // A snapshot is never overwritten.
  auto again = merge_exports(merge_options(base, {inc1}, "merged/one"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "SnapshotExists");

  // Data files without a summary (a merge that did not finish): refused too, never mixed with new ones.
  ASSERT_TRUE(s3().put_object(bucket_, "merged/unfinished/data/p0000-00001.json.gz", "x").ok());
  auto partial = merge_exports(merge_options(base, {inc1}, "merged/unfinished"));
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.error().code, "UnfinishedSnapshot");
}

TEST_F(PitrMergeTest, ExportServerWritesTheDocumentedLayoutAndOneRecordPerChangedKey) {
  const double t0 = std::floor(now_seconds()) - 3 * 3600, t1 = t0 + 1800;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"b"},"n":{"N":"2"}})"});
  snapshot(t0);
  const std::string full = full_export(t0);
  put({R"({"id":{"S":"a"},"n":{"N":"10"}})", R"({"id":{"S":"c"},"n":{"N":"3"}})"});
  put({R"({"id":{"S":"a"},"n":{"N":"11"}})"});  // two writes, one record: the server cannot know the first
  remove({"b"});
  snapshot(t1);
  const std::string old_and_new = incremental_export(t0, t1, "NEW_AND_OLD_IMAGES");
  const std::string new_only = incremental_export(t0, t1, "NEW_IMAGE");
  ASSERT_FALSE(full.empty() || old_and_new.empty() || new_only.empty());

  auto folder = [&](const std::string& location) {
    Destination d;
    d.is_s3 = true;
    d.bucket = bucket_;
    d.prefix = location.substr(std::string("s3://" + bucket_ + "/").size());
    return d;
  };
  for (const auto& location : {full, old_and_new}) {
    for (const char* name : {"_started", "manifest-summary.json", "manifest-summary.checksum",
                             "manifest-files.json", "manifest-files.checksum"}) {
      auto got = aws_.read(folder(location), name);
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(got->has_value()) << location << "/" << name;
    }
  }
  auto summary = aws_.read(folder(old_and_new), "manifest-summary.json");
  auto summary_json = testing::parse_json(**summary);
  ASSERT_TRUE(summary_json.ok());
  EXPECT_EQ(summary_json->find("exportType")->text, "INCREMENTAL_EXPORT");
  EXPECT_EQ(summary_json->find("outputView")->text, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(summary_json->find("itemCount")->text, "3");
  EXPECT_NE(summary_json->find("exportFromTime"), nullptr);
  EXPECT_EQ(testing::parse_json(**aws_.read(folder(full), "manifest-summary.json"))->find("itemCount")->text,
            "2");

  // The records, by key: a is updated (once), b deleted (no NewImage), c new (no OldImage).
  auto records = [&](const std::string& location) {
    std::map<std::string, Json> by_key;
    auto stored = aws_.read_all(folder(location), "data/");
    EXPECT_TRUE(stored.ok());
    for (const auto& object : *stored) {
      auto text = testing::decompress(object.bytes, Compression::kGzip);
      EXPECT_TRUE(text.ok());
      auto lines = testing::split_lines(*text);
      EXPECT_TRUE(lines.ok());
      for (const auto& line : *lines) {
        auto json = testing::parse_json(line);
        EXPECT_TRUE(json.ok());
        const Json* micros = json->find("Metadata")->find("WriteTimestampMicros")->find("N");
        EXPECT_GE(std::stod(micros->text), t0 * 1e6);
        EXPECT_LT(std::stod(micros->text), t1 * 1e6);
        by_key[json->find("Keys")->find("id")->find("S")->text] = *json;
      }
    }
    return by_key;
  };
  auto both = records(old_and_new);
  ASSERT_EQ(both.size(), 3u);
  EXPECT_EQ(both["a"].find("NewImage")->find("n")->find("N")->text, "11");
  EXPECT_EQ(both["a"].find("OldImage")->find("n")->find("N")->text, "1");
  EXPECT_EQ(both["b"].find("NewImage"), nullptr);
  EXPECT_EQ(both["b"].find("OldImage")->find("n")->find("N")->text, "2");
  EXPECT_EQ(both["c"].find("OldImage"), nullptr);
  auto news = records(new_only);
  ASSERT_EQ(news.size(), 3u);
  for (const auto& [key, record] : news) EXPECT_EQ(record.find("OldImage"), nullptr) << key;
  EXPECT_EQ(news["b"].find("NewImage"), nullptr);

  // Without a snapshot at or before ExportFromTime an incremental export cannot be computed: refused.
  ExportOptions o;
  o.table = table_;
  o.source.endpoint_url = server_.url();
  o.s3_bucket = bucket_;
  o.env = aws_.env();
  o.export_type = "INCREMENTAL_EXPORT";
  o.export_from_time = t0 - 3600;
  o.export_to_time = t0;
  auto refused = run_export(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InvalidExportTimeException");
}

// The command line: `ddb2s3 merge BASE --incremental ... --to DEST`, its output and exit codes.
TEST_F(PitrMergeTest, MergeCommandWritesTheSnapshotAndExitsAsTheOtherCommands) {
  const double t0 = std::floor(now_seconds()) - 3 * 3600, t1 = t0 + 1800, t2 = t1 + 1800;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"b"},"bs":{"BS":["AAEC"]}})"});
  snapshot(t0);
  const std::string base = full_export(t0);
  put({std::string(R"({"id":{"S":"c"},"n":{"N":")") + kBig + R"("}})"});
  remove({"a"});
  snapshot(t1);
  const std::string inc1 = incremental_export(t0, t1, "NEW_AND_OLD_IMAGES");
  put({R"({"id":{"S":"a"},"n":{"N":"2"}})"});
  snapshot(t2);
  const std::string inc2 = incremental_export(t1, t2, "NEW_IMAGE");

  std::map<std::string, std::string> env = aws_.env_vars();
  const std::string to = "s3://" + bucket_ + "/cli/snapshot";
  auto done = testing::run_process(
      testing::ddb2s3_argv({"merge", base, "--incremental", inc1, inc2, "--to", to, "--partitions", "3",
                            "--endpoint-url", aws_.s3_endpoint(), "--json"}),
      env);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  auto json = testing::parse_json(done.out);
  ASSERT_TRUE(json.ok()) << done.out;
  EXPECT_EQ(json->find("items")->text, "3");
  EXPECT_EQ(json->find("deleted_keys")->text, "0");  // a was deleted, then came back
  EXPECT_EQ(merged("cli/snapshot"), scanned());

  // Again to the same place: refused (1); a bad flag value: a usage error (2).
  auto again = testing::run_process(
      testing::ddb2s3_argv({"merge", base, "--to", to, "--endpoint-url", aws_.s3_endpoint()}), env);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("SnapshotExists"), std::string::npos) << again.err;
  auto usage = testing::run_process(
      testing::ddb2s3_argv({"merge", base, "--to", to + "2", "--file-size", "lots"}), env);
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  EXPECT_NE(usage.err.find("--file-size"), std::string::npos) << usage.err;
}

// A member's text, or "<none>": so that a missing member fails the comparison instead of crashing.
std::string text_of(const Json& json, std::string_view name) {
  const Json* member = json.find(name);
  return member ? member->text : "<none>";
}

// Many machines: four `ddb2s3 merge --partitions 4 --partition I` processes at once, then --finalize; the
// snapshot is the one a single process writes with the same K, and the table as a fresh scan sees it.
TEST_F(PitrMergeTest, FourPartitionProcessesThenFinalizeWriteTheSingleProcessSnapshot) {
  const auto exports = three_exports();
  ASSERT_EQ(exports.size(), 3u);
  const std::string to = "s3://" + bucket_ + "/parts/snapshot";
  std::map<std::string, std::string> env = aws_.env_vars();
  std::vector<std::unique_ptr<testing::ChildProcess>> runs;
  for (int i = 0; i < 4; ++i)
    runs.push_back(std::make_unique<testing::ChildProcess>(
        testing::ddb2s3_argv({"merge", exports[0], "--incremental", exports[1], exports[2], "--to", to,
                              "--partitions", "4", "--partition", std::to_string(i), "--file-size", "300",
                              "--endpoint-url", aws_.s3_endpoint(), "--json"}),
        env));
  int64_t items = 0;
  for (int i = 0; i < 4; ++i) {
    auto done = runs[i]->wait();
    ASSERT_EQ(done.exit_code, 0) << done.err;
    auto json = testing::parse_json(done.out);
    ASSERT_TRUE(json.ok()) << done.out;
    EXPECT_EQ(text_of(*json, "mode"), "partition");
    EXPECT_EQ(text_of(*json, "partition"), std::to_string(i));
    EXPECT_EQ(text_of(*json, "already_done"), "false");
    items += std::stoll(text_of(*json, "items"));
  }
  // The partitions wrote their data files and manifests, and nothing says the snapshot is complete yet.
  EXPECT_FALSE(exists("parts/snapshot", "manifest-summary.json"));
  EXPECT_FALSE(exists("parts/snapshot", "manifest-files.json"));
  EXPECT_EQ(keys_under("parts/snapshot", "partitions/"),
            (std::vector<std::string>{
                "parts/snapshot/partitions/p0000.json", "parts/snapshot/partitions/p0001.json",
                "parts/snapshot/partitions/p0002.json", "parts/snapshot/partitions/p0003.json"}));

  auto finalized =
      testing::run_process(testing::ddb2s3_argv({"merge", "--finalize", "--to", to, "--partitions", "4",
                                                 "--endpoint-url", aws_.s3_endpoint(), "--json"}),
                           env);
  ASSERT_EQ(finalized.exit_code, 0) << finalized.err;
  auto json = testing::parse_json(finalized.out);
  ASSERT_TRUE(json.ok()) << finalized.out;
  EXPECT_EQ(text_of(*json, "mode"), "finalize");
  EXPECT_EQ(text_of(*json, "partitions"), "4");
  EXPECT_EQ(text_of(*json, "items"), std::to_string(items));

  auto single_options = merge_options(exports[0], {exports[1], exports[2]}, "parts/single");
  single_options.partitions = 4;
  auto single = merge_exports(single_options);
  ASSERT_TRUE(single.ok()) << single.error().to_string();
  const auto expected = scanned();
  EXPECT_EQ(merged("parts/snapshot"), expected);
  EXPECT_EQ(merged("parts/single"), expected);
  EXPECT_EQ(single->items, items);

  // The manifests as a single process writes them: the same counts, every data file listed once.
  Json summary = read_json("parts/snapshot", "manifest-summary.json");
  Json single_summary = read_json("parts/single", "manifest-summary.json");
  for (const char* name :
       {"itemCount", "exportType", "outputFormat", "partitions", "changedKeys", "deletedKeys"})
    EXPECT_EQ(text_of(summary, name), text_of(single_summary, name)) << name;
  EXPECT_EQ(text_of(summary, "manifestFilesS3Key"), "parts/snapshot/manifest-files.json");
  const Json* merged_from = summary.find("mergedFrom");
  ASSERT_NE(merged_from, nullptr);
  EXPECT_EQ(text_of(*merged_from, "base"), exports[0]);
  auto files = aws_.read(folder("parts/snapshot"), "manifest-files.json");
  ASSERT_TRUE(files.ok() && files->has_value());
  auto lines = testing::split_lines(**files);
  ASSERT_TRUE(lines.ok());
  std::vector<std::string> listed;
  int64_t counted = 0;
  for (const auto& line : *lines) {
    auto file = testing::parse_json(line);
    ASSERT_TRUE(file.ok()) << line;
    counted += std::stoll(text_of(*file, "itemCount"));
    listed.push_back(text_of(*file, "dataFileS3Key"));
    EXPECT_NE(file->find("md5Checksum"), nullptr);
    EXPECT_NE(file->find("etag"), nullptr);
  }
  EXPECT_EQ(counted, items);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));  // partition order
  EXPECT_EQ(listed, keys_under("parts/snapshot", "data/"));
  EXPECT_GT(listed.size(), 4u);  // --file-size 300: several files per partition

  // The finalized snapshot is a base like any other.
  auto next = merge_exports(merge_options(to, {}, "parts/next"));
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(merged("parts/next"), expected);
}

// Retries and failures as a scheduler makes them: a missing partition stops finalize (naming it), a done
// partition is not run again, a failed attempt's files are replaced, and manifests of another merge refused.
TEST_F(PitrMergeTest, PartitionRunsAreRetriedAndFinalizeChecksThemAll) {
  const auto exports = three_exports();
  ASSERT_EQ(exports.size(), 3u);
  auto options = [&](int partition, int partitions = 4) {
    auto o = merge_options(exports[0], {exports[1], exports[2]}, "retry/snapshot");
    o.partitions = partitions;
    o.partition = partition;
    o.file_size = 200;
    return o;
  };
  std::map<int, MergeOutcome> runs;
  for (int p : {0, 1, 3}) {
    auto run = merge_exports(options(p));
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    EXPECT_EQ(run->partition, p);
    EXPECT_FALSE(run->already_done);
    EXPECT_TRUE(run->summary_key.empty());
    EXPECT_EQ(run->partition_manifest_key, "retry/snapshot/partitions/p000" + std::to_string(p) + ".json");
    runs[p] = *run;
  }

  // Partition 2 not done: finalize refuses, naming it and how to run it; nothing of the snapshot is written.
  auto missing = finalize_merge(options(-1));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "PartitionsMissing");
  EXPECT_NE(missing.error().message.find("1 of 4 partitions are not done"), std::string::npos)
      << missing.error().message;
  EXPECT_TRUE(missing.error().message.ends_with(": 2")) << missing.error().message;
  EXPECT_NE(missing.error().hint.find("--partitions 4 --partition I"), std::string::npos)
      << missing.error().hint;
  EXPECT_FALSE(exists("retry/snapshot", "manifest-summary.json"));
  EXPECT_FALSE(exists("retry/snapshot", "manifest-files.json"));

  // A done partition again (a scheduler's retry): nothing read or written, its outcome as recorded.
  const auto before = keys_under("retry/snapshot", "data/");
  auto again = merge_exports(options(1));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(again->already_done);
  EXPECT_EQ(again->items, runs[1].items);
  EXPECT_EQ(again->files.size(), runs[1].files.size());
  EXPECT_EQ(keys_under("retry/snapshot", "data/"), before);
  // ... but not as a partition of another merge.
  auto other = merge_exports(options(1, 8));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "PartitionsDisagree");

  // Partition 2's attempt that failed: data files of its own, no manifest. The next run replaces them.
  put_object("retry/snapshot/data/p0002-00001.json.gz", "half a file");
  put_object("retry/snapshot/data/p0002-00042.json.gz", "another");
  auto rerun = merge_exports(options(2));
  ASSERT_TRUE(rerun.ok()) << rerun.error().to_string();
  std::vector<std::string> own;
  for (const auto& f : rerun->files) own.push_back(f.key);
  std::vector<std::string> stored;
  for (const auto& key : keys_under("retry/snapshot", "data/"))
    if (key.starts_with("retry/snapshot/data/p0002-")) stored.push_back(key);
  EXPECT_EQ(stored, own);
  EXPECT_EQ(std::count(stored.begin(), stored.end(), "retry/snapshot/data/p0002-00042.json.gz"), 0);

  // A file that no partition wrote (an attempt with other options) is refused, then finalize with another
  // K: the partitions disagree with it.
  put_object("retry/snapshot/data/p0006-00001.json.gz", "stray");
  auto stray = finalize_merge(options(-1));
  ASSERT_FALSE(stray.ok());
  EXPECT_EQ(stray.error().code, "UnlistedDataFile");
  EXPECT_NE(stray.error().message.find("p0006-00001"), std::string::npos) << stray.error().message;
  ASSERT_TRUE(s3().delete_object(bucket_, "retry/snapshot/data/p0006-00001.json.gz").ok());
  auto other_k = finalize_merge(options(-1, 2));
  ASSERT_FALSE(other_k.ok());
  EXPECT_EQ(other_k.error().code, "PartitionsDisagree");
  EXPECT_NE(other_k.error().message.find("4 partitions, not 2"), std::string::npos)
      << other_k.error().message;

  auto done = finalize_merge(options(-1));
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  const auto expected = scanned();
  EXPECT_EQ(merged("retry/snapshot"), expected);
  EXPECT_EQ(done->items, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(done->summary_key, "retry/snapshot/manifest-summary.json");
  // A snapshot is never overwritten, by finalize either; a partition run after it is done already.
  auto twice = finalize_merge(options(-1));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, "SnapshotExists");
  auto after = merge_exports(options(0));
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_TRUE(after->already_done);

  // Without incremental exports nothing is hashed: partition 0 copies the snapshot, the others write no file.
  for (int p = 0; p < 3; ++p) {
    auto o = merge_options(exports[0], {}, "retry/copy");
    o.partitions = 3;
    o.partition = p;
    auto copy = merge_exports(o);
    ASSERT_TRUE(copy.ok()) << copy.error().to_string();
    EXPECT_EQ(copy->files.empty(), p != 0);
  }
  auto copy_options = merge_options("", {}, "retry/copy");
  copy_options.partitions = 3;
  auto copied = finalize_merge(copy_options);
  ASSERT_TRUE(copied.ok()) << copied.error().to_string();
  EXPECT_EQ(copied->items, 60);
  EXPECT_EQ(text_of(read_json("retry/copy", "manifest-summary.json"), "partitions"), "1");
}

// `--partition auto`: the array job's index, as `scan --segment auto` reads it; and the flags' usage errors.
TEST_F(PitrMergeTest, PartitionAutoTakesTheJobIndexAndBadFlagsAreUsageErrors) {
  const auto exports = three_exports();
  ASSERT_EQ(exports.size(), 3u);
  const std::string to = "s3://" + bucket_ + "/auto/snapshot";
  auto merge_argv = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"merge", exports[0], "--incremental",  exports[1],        exports[2],
                                     "--to",  to,         "--endpoint-url", aws_.s3_endpoint()};
    args.insert(args.end(), more.begin(), more.end());
    return testing::ddb2s3_argv(args);
  };
  std::map<std::string, std::string> env = aws_.env_vars();
  for (int i = 0; i < 2; ++i) {
    auto task_env = env;
    task_env["JOB_COMPLETION_INDEX"] = std::to_string(i);
    auto done =
        testing::run_process(merge_argv({"--partitions", "3", "--partition", "auto", "--json"}), task_env);
    ASSERT_EQ(done.exit_code, 0) << done.err;
    auto json = testing::parse_json(done.out);
    ASSERT_TRUE(json.ok()) << done.out;
    EXPECT_EQ(text_of(*json, "partition"), std::to_string(i));
  }
  EXPECT_TRUE(exists("auto/snapshot", "partitions/p0001.json"));

  // Partition 2 missing: finalize fails (1), naming it.
  const std::vector<std::string> finalize = {
      "merge", "--finalize", "--to", to, "--partitions", "3", "--endpoint-url", aws_.s3_endpoint()};
  auto missing = testing::run_process(testing::ddb2s3_argv(finalize), env);
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("PartitionsMissing"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("not done"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find(": 2"), std::string::npos) << missing.err;

  // Usage errors (2), each naming its flag; nothing is run.
  auto task_env = env;
  task_env["JOB_COMPLETION_INDEX"] = "3";
  struct Case {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string says;
  };
  const std::vector<Case> cases = {
      {merge_argv({"--partition", "1"}), env, "--partition needs --partitions"},
      {merge_argv({"--partitions", "3", "--partition", "3"}), env,
       "--partition must be from 0 to --partitions - 1 (2)"},
      {merge_argv({"--partitions", "3", "--partition", "-1"}), env, "--partition takes a number"},
      {merge_argv({"--partitions", "3", "--partition", "auto"}), env, "JOB_COMPLETION_INDEX"},
      {merge_argv({"--partitions", "3", "--partition", "auto"}), task_env,
       "--partition 'auto': JOB_COMPLETION_INDEX='3'"},
      {merge_argv({"--partitions", "3", "--partition", "0", "--finalize"}), env, "--partition"},
      {testing::ddb2s3_argv({"merge", "--finalize", "--to", to}), env, "--finalize needs --partitions"},
      {testing::ddb2s3_argv({"merge", "--to", to, "--partitions", "3"}), env, "needs BASE"},
  };
  for (const auto& c : cases) {
    auto usage = testing::run_process(c.argv, c.env);
    EXPECT_EQ(usage.exit_code, 2) << c.says << ": " << usage.err;
    EXPECT_NE(usage.err.find(c.says), std::string::npos) << usage.err;
  }
  EXPECT_FALSE(exists("auto/snapshot", "partitions/p0002.json"));

  auto last = testing::run_process(merge_argv({"--partitions", "3", "--partition", "2"}), env);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_NE(last.err.find("merged partition 2 of 3"), std::string::npos) << last.err;
  auto finalized = testing::run_process(testing::ddb2s3_argv(finalize), env);
  ASSERT_EQ(finalized.exit_code, 0) << finalized.err;
  EXPECT_EQ(merged("auto/snapshot"), scanned());
  auto help = testing::run_process(testing::ddb2s3_argv({"merge", "--help"}), env);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--partition ", "--finalize", "JOB_COMPLETION_INDEX"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
}

// A `scan --format dynamodb-json` run has the export's layout and line format: it is a base too (its gzip is
// one member per page, read here a few bytes at a time).
TEST_F(PitrMergeTest, AScanRunInDynamoDbJsonIsABase) {
  const double t0 = std::floor(now_seconds()) - 2 * 3600, t1 = t0 + 900;
  std::vector<std::string> items;
  for (int i = 0; i < 60; ++i)
    items.push_back(R"({"id":{"S":"item-)" + std::to_string(i) + R"("},"n":{"N":")" + kBig + R"("}})");
  put(items);
  Destination dest;
  dest.is_s3 = true;
  dest.bucket = bucket_;
  dest.prefix = "scans";
  ScanOptions scan = aws_.scan_options(table_, dest);
  scan.format = OutputFormat::kDynamoDbJson;
  scan.run_id = "base";
  scan.request.limit = 7;  // several pages: several gzip members
  auto ran = run_scan(scan);
  ASSERT_TRUE(ran.ok()) << ran.error().to_string();
  snapshot(t0);
  put({R"({"id":{"S":"item-3"},"n":{"N":"-3"}})", R"({"id":{"S":"extra"},"ss":{"SS":["x"]}})"});
  remove({"item-5", "item-59"});
  snapshot(t1);
  const std::string inc = incremental_export(t0, t1, "NEW_IMAGE");
  auto options = merge_options("s3://" + bucket_ + "/scans/base", {inc}, "merged/from-scan");
  options.read_size = 5;
  auto merged_outcome = merge_exports(options);
  ASSERT_TRUE(merged_outcome.ok()) << merged_outcome.error().to_string();
  EXPECT_EQ(merged_outcome->base_items, 60);
  EXPECT_EQ(merged_outcome->items, 59);
  EXPECT_EQ(merged("merged/from-scan"), scanned());
}

TEST(PitrMerge, CanonicalJsonSortsMembersAndKeepsNumbersAsWritten) {
  auto c = canonical_dynamodb_json(
      R"( {"b":{"N":"123456789012345678901234567890.12345678"}, "a":{"M":{"y":{"S":"\u00e9\n"},"x":{"BOOL":false}}}} )");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c,
            "{\"a\":{\"M\":{\"x\":{\"BOOL\":false},\"y\":{\"S\":\"\xc3\xa9\\n\"}}},"
            "\"b\":{\"N\":\"123456789012345678901234567890.12345678\"}}");
  EXPECT_FALSE(canonical_dynamodb_json("{\"a\":").ok());
  for (int k : {1, 4, 16}) {
    const int p = key_partition(R"({"id":{"S":"x"}})", k);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, k);
    EXPECT_EQ(p, key_partition(R"({"id":{"S":"x"}})", k));
  }
}

TEST(PitrMerge, OptionsOutOfRangeAreUsageErrors) {
  MergeOptions o;
  o.base = "s3://b/base";
  o.to = "s3://b/out";
  o.partitions = 0;
  auto r = merge_exports(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(r.error().field, "partitions");
  o.partitions = 4;
  o.to.clear();
  EXPECT_EQ(merge_exports(o).error().field, "to");
}

}  // namespace
}  // namespace ddb2s3

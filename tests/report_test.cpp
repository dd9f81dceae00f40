// The progress line a user watches on a terminal: counts, sizes, rates, segments and the ETA.
#include <gtest/gtest.h>

#include "report/progress.h"
#include "report/summary.h"

namespace ddb2s3 {
namespace {

TEST(Progress, CountsAndBytesAreReadable) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1500), "1.5 KB");
  EXPECT_EQ(format_bytes(812300000), "812.3 MB");
}

TEST(Progress, LineShowsRatesSegmentsAndEta) {
  ProgressSnapshot s;
  s.items = 50000;
  s.scanned = 50000;
  s.scan_bytes = 40'000'000;
  s.stored_bytes = 10'000'000;
  s.segments_done = 3;
  s.segments_total = 8;
  s.table_item_count = 150000;
  s.seconds = 10;
  std::string line = format_progress(s);
  EXPECT_NE(line.find("50,000 items"), std::string::npos) << line;
  EXPECT_NE(line.find("40.0 MB scanned"), std::string::npos) << line;
  EXPECT_NE(line.find("10.0 MB stored"), std::string::npos) << line;
  EXPECT_NE(line.find("5,000 items/s"), std::string::npos) << line;
  EXPECT_NE(line.find("4.0 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("3/8 segments"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 0:00:20"), std::string::npos) << line;  // 100,000 left at 5,000/s
}

TEST(Progress, NoEtaWithoutAnItemCountOrPastIt) {
  ProgressSnapshot s;
  s.items = s.scanned = 10;
  s.seconds = 1;
  EXPECT_EQ(format_progress(s).find("ETA"), std::string::npos);  // DescribeTable's ItemCount unknown (0)
  s.table_item_count = 5;  // the estimate lags behind the table
  EXPECT_EQ(format_progress(s).find("ETA"), std::string::npos);
  s.segments_total = 1;
  EXPECT_EQ(format_progress(s).find("segments"), std::string::npos);
}

TEST(Summary, JsonHasEveryFieldInOrder) {
  ScanSummary s;
  s.run.run_id = "r1";
  s.run.table = "orders";
  s.run.table_arn = "arn:aws:dynamodb:us-east-1:1:table/orders";
  s.destination = "s3://b/p/r1";
  s.segment_manifest_key = "p/r1/segments/2.json";
  s.run.start_time = "2026-11-26T15:30:00.000Z";
  s.run.end_time = "2026-11-26T15:30:01.500Z";
  s.run.seconds = 1.5;
  s.run.item_count = 7;
  s.run.scanned_count = 9;
  s.run.scan_bytes = 1000;
  s.run.pages = 2;
  s.run.consumed_rcu = 12.5;
  s.run.throttles = 1;
  s.run.total_segments = 4;
  s.run.segment = 2;
  s.run.files.push_back(DataFile{StoredObject{"p/r1/data/0002-00000.json.gz", 300, "md5==", "etag1"}, 7, 2});
  EXPECT_EQ(
      summary_json(s),
      R"({"runId":"r1","table":"orders","tableArn":"arn:aws:dynamodb:us-east-1:1:table/orders",)"
      R"("destination":"s3://b/p/r1","segmentManifestKey":"p/r1/segments/2.json",)"
      R"("startTime":"2026-11-26T15:30:00.000Z","endTime":"2026-11-26T15:30:01.500Z",)"
      R"("seconds":1.500000,"itemCount":7,"scannedCount":9,"scanBytes":1000,"storedBytes":300,"pages":2,)"
      R"("consumedReadCapacityUnits":12.500000,"throttles":1,"fileCount":1,"totalSegments":4,"segment":2,"files":[{"key":"p/r1/data/0002-00000.json.gz",)"
      R"("itemCount":7,"size":300,"md5Checksum":"md5==","etag":"etag1"}]})");
}

TEST(Summary, ReadRateLimitSaysTheTargetAndItsBase) {
  ScanSummary s;
  ReadRateLimit l;
  l.rcu_per_second = 50;
  l.scan_rcu_per_second = 200;
  l.read_capacity_percent = 25;
  l.base = "ProvisionedThroughput.ReadCapacityUnits";
  l.base_units = 800;
  s.read_limit = l;
  std::string json = summary_json(s);
  EXPECT_NE(json.find(R"("readRateLimit":{"rcuPerSecond":50.000000,"scanRcuPerSecond":200.000000,)"
                      R"("readCapacityPercent":25.000000,"base":"ProvisionedThroughput.ReadCapacityUnits",)"
                      R"("baseUnits":800})"),
            std::string::npos)
      << json;
  s.read_limit.reset();
  EXPECT_EQ(summary_json(s).find("readRateLimit"), std::string::npos);
}

TEST(Progress, LineShowsReadCapacityAndThrottles) {
  ProgressSnapshot s;
  s.items = s.scanned = 100;
  s.seconds = 10;
  s.consumed_rcu = 4000;
  std::string line = format_progress(s);
  EXPECT_NE(line.find("  400 RCU/s"), std::string::npos) << line;
  EXPECT_EQ(line.find("throttle"), std::string::npos) << line;
  s.rcu_target = 1500;
  s.throttles = 3;
  line = format_progress(s);
  EXPECT_NE(line.find("400 RCU/s of 1,500"), std::string::npos) << line;
  EXPECT_NE(line.find("3 throttles"), std::string::npos) << line;
  s.consumed_rcu = 0;  // ReturnConsumedCapacity NONE and no target: nothing to show
  s.rcu_target = 0;
  EXPECT_EQ(format_progress(s).find("RCU"), std::string::npos);
}

}  // namespace
}  // namespace ddb2s3

// The progress line a user watches on a terminal: counts, sizes, rates, segments and the ETA.
#include <gtest/gtest.h>

#include "report/progress.h"

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

}  // namespace
}  // namespace ddb2s3

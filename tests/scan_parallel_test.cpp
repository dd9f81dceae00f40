// segment 'auto': the segment an array job's scheduler assigns, read from a given environment (never the
// process's), with the errors a user sees when the job and the scan do not fit together.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scan/parallel.h"
#include "scan/scan.h"

namespace ddb2s3 {
namespace {

Result<int> from(std::map<std::string, std::string> vars, int total_segments) {
  return segment_from_scheduler(Environment::from(std::move(vars)), total_segments);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SegmentFromScheduler, EachSchedulersVariableGivesTheIndex) {
  for (const char* name : {"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"}) {
    SCOPED_TRACE(name);
    for (int i : {0, 1, 6}) {
      auto r = from({{name, std::to_string(i)}}, 7);
      ASSERT_TRUE(r) << r.error().to_string();
      EXPECT_EQ(*r, i);
    }
  }
  auto leading_zero = from({{"AWS_BATCH_JOB_ARRAY_INDEX", "007"}}, 10);
  ASSERT_TRUE(leading_zero) << leading_zero.error().to_string();
  EXPECT_EQ(*leading_zero, 7);
  auto biggest = from({{"JOB_COMPLETION_INDEX", "999999"}}, kMaxTotalSegments);
  ASSERT_TRUE(biggest) << biggest.error().to_string();
  EXPECT_EQ(*biggest, kMaxTotalSegments - 1);
}

TEST(SegmentFromScheduler, NoneSetNamesAllThree) {
  // Other variables (and an empty one, as unset) do not count.
  auto r = from({{"PATH", "/usr/bin"}, {"JOB_COMPLETION_INDEX", ""}, {"AWS_BATCH_JOB_ID", "abc:1"}}, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(r.error().field, "segment");
  for (const char* name : {"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"})
    EXPECT_TRUE(contains(r.error().message, name)) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "segment 'auto'")) << r.error().message;
}

TEST(SegmentFromScheduler, NotANumberNamesTheVariableAndItsValue) {
  for (const char* value : {"x", "-1", "+1", " 1", "1 ", "1.0", "0x1", "１"}) {
    SCOPED_TRACE(value);
    auto r = from({{"AWS_BATCH_JOB_ARRAY_INDEX", value}}, 3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(r.error().field, "segment");
    EXPECT_TRUE(contains(r.error().message, std::string("AWS_BATCH_JOB_ARRAY_INDEX='") + value + "'"))
        << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "is not an index")) << r.error().message;
  }
}

TEST(SegmentFromScheduler, OutOfRangeNamesTheVariableItsValueAndTheRange) {
  auto r = from({{"SLURM_ARRAY_TASK_ID", "3"}}, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(r.error().field, "segment");
  EXPECT_EQ(r.error().message,
            "segment 'auto': SLURM_ARRAY_TASK_ID='3' is out of range: segment must be from 0 to "
            "total_segments - 1 (2)");
  EXPECT_TRUE(contains(r.error().hint, "total_segments")) << r.error().hint;
  // Beyond any integer: still the value as given, not a wrapped number.
  auto huge = from({{"JOB_COMPLETION_INDEX", "18446744073709551617"}}, 3);
  ASSERT_FALSE(huge);
  EXPECT_TRUE(contains(huge.error().message, "JOB_COMPLETION_INDEX='18446744073709551617' is out of range"))
      << huge.error().message;
  auto just_over = from({{"JOB_COMPLETION_INDEX", "4294967296"}}, 3);  // 2^32: 0 if narrowed to 32 bits
  ASSERT_FALSE(just_over);
  EXPECT_TRUE(contains(just_over.error().message, "out of range")) << just_over.error().message;
}

TEST(SegmentFromScheduler, TwoVariablesMustAgree) {
  auto same = from({{"JOB_COMPLETION_INDEX", "2"}, {"SLURM_ARRAY_TASK_ID", "2"}}, 3);
  ASSERT_TRUE(same) << same.error().to_string();
  EXPECT_EQ(*same, 2);
  auto differ = from({{"JOB_COMPLETION_INDEX", "1"}, {"AWS_BATCH_JOB_ARRAY_INDEX", "2"}}, 3);
  ASSERT_FALSE(differ);
  EXPECT_EQ(differ.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(differ.error().field, "segment");
  EXPECT_TRUE(contains(differ.error().message, "JOB_COMPLETION_INDEX='1' and AWS_BATCH_JOB_ARRAY_INDEX='2'"))
      << differ.error().message;
  // Leading zeros are the same index.
  auto padded = from({{"AWS_BATCH_JOB_ARRAY_INDEX", "02"}, {"SLURM_ARRAY_TASK_ID", "2"}}, 3);
  ASSERT_TRUE(padded) << padded.error().to_string();
  EXPECT_EQ(*padded, 2);
}

TEST(SegmentFromScheduler, ABadTotalIsReportedAsTheTotal) {
  auto r = from({{"JOB_COMPLETION_INDEX", "0"}}, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "total_segments");
}

// run_scan resolves segment_auto before anything else, from the options' environment: its errors come back
// before any AWS call (nothing listens at these endpoints, so a call would fail differently).
TEST(SegmentFromScheduler, RunScanResolvesAutoFromItsEnvironment) {
  ScanOptions o;
  o.table = "t";
  auto dest = Destination::parse("s3://bucket/prefix");
  ASSERT_TRUE(dest);
  o.dest = *dest;
  o.source.endpoint_url = "http://127.0.0.1:9";
  o.dest_aws.endpoint_url = "http://127.0.0.1:9";
  o.run_id = "r";
  o.total_segments = 4;
  o.segment_auto = true;
  o.env = Environment::from({{"AWS_BATCH_JOB_ARRAY_INDEX", "4"}});
  auto r = run_scan(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_TRUE(contains(r.error().message, "AWS_BATCH_JOB_ARRAY_INDEX='4' is out of range"))
      << r.error().message;

  o.env = Environment::from({});
  r = run_scan(o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "none of JOB_COMPLETION_INDEX")) << r.error().message;

  o.segment = 1;  // a number and 'auto' at once
  o.env = Environment::from({{"AWS_BATCH_JOB_ARRAY_INDEX", "1"}});
  r = run_scan(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "segment");
  EXPECT_TRUE(contains(r.error().message, "given twice")) << r.error().message;
}

}  // namespace
}  // namespace ddb2s3

// Error, Result<T>, Status and the propagation macros.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace ddb2s3 {
namespace {

Status fails_when(bool fail) {
  if (fail) return Error::usage("bad flag");
  return {};
}

Result<int> number(bool fail) {
  if (fail) return Error::io("no number");
  return 41;
}

Result<std::unique_ptr<int>> owned(bool fail) {
  if (fail) return Error::internal("no pointer");
  return std::make_unique<int>(7);
}

Result<int> add_one(bool fail_status, bool fail_number) {
  DDB2S3_RETURN_IF_ERROR(fails_when(fail_status));
  DDB2S3_ASSIGN_OR_RETURN(int n, number(fail_number));
  return n + 1;
}

Status twice(bool fail_second) {
  // Two uses in one scope need distinct temporaries.
  DDB2S3_ASSIGN_OR_RETURN(auto a, number(false));
  DDB2S3_ASSIGN_OR_RETURN(auto b, number(fail_second));
  if (a + b != 82) return Error::internal("wrong sum");
  return {};
}

Result<int> into_existing(bool fail) {
  int n = 0;
  DDB2S3_ASSIGN_OR_RETURN(n, number(fail));
  return n;
}

Result<int> move_only(bool fail) {
  DDB2S3_ASSIGN_OR_RETURN(std::unique_ptr<int> p, owned(fail));
  return *p;
}

Status result_as_status(bool fail) {
  DDB2S3_RETURN_IF_ERROR(number(fail));  // any Result, not only Status
  return {};
}

TEST(BaseResult, ReturnIfErrorAndAssignOrReturnPropagateTheError) {
  auto ok = add_one(false, false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);

  auto bad_status = add_one(true, false);
  ASSERT_FALSE(bad_status.ok());
  EXPECT_EQ(bad_status.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(bad_status.error().message, "bad flag");

  auto bad_number = add_one(false, true);
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error().kind, ErrorKind::kIo);
  EXPECT_EQ(bad_number.error().code, "IoError");

  EXPECT_TRUE(twice(false).ok());
  EXPECT_EQ(twice(true).error().message, "no number");
  EXPECT_EQ(*into_existing(false), 41);
  EXPECT_FALSE(into_existing(true).ok());
  EXPECT_EQ(*move_only(false), 7);
  EXPECT_EQ(move_only(true).error().kind, ErrorKind::kInternal);
  EXPECT_TRUE(result_as_status(false).ok());
  EXPECT_EQ(result_as_status(true).error().message, "no number");
}

TEST(BaseResult, ErrorKeepsItsFieldsAndSaysThemInOneLine) {
  Error e = Error::make(ErrorKind::kThrottling, "ProvisionedThroughputExceededException", "slow down");
  e.http_status = 400;
  e.request_id = "RID";
  e.hint = "lower --parallelism";
  EXPECT_TRUE(e.retryable());
  Error scan = std::move(e).with_context("Scan", "table 'orders'");
  EXPECT_EQ(scan.to_string(),
            "Scan on table 'orders' failed: ProvisionedThroughputExceededException: slow down (HTTP 400, "
            "request id RID). lower --parallelism");
  // Context given first wins.
  Error again = std::move(scan).with_context("Other", "elsewhere");
  EXPECT_EQ(again.operation, "Scan");
  EXPECT_EQ(again.resource, "table 'orders'");

  Error bare = Error::make(ErrorKind::kIo, "", "disk full");
  bare.resource = "/tmp/x";
  EXPECT_EQ(bare.to_string(), "/tmp/x: disk full");
  EXPECT_FALSE(bare.retryable());
  Error only_id;
  only_id.code = "X";
  only_id.request_id = "R";
  EXPECT_EQ(only_id.to_string(), "X (request id R)");
}

}  // namespace
}  // namespace ddb2s3

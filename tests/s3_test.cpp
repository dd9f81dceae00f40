// S3Client against a real S3 implementation (s3rver): round trips, multipart, listing, errors.
#include "s3/s3.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "support/aws_fixtures.h"
#include "support/files.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::random_bytes;

using testing::kTestAccessKey;
using testing::local_servers;
using testing::md5_hex_of;
using testing::unique_name;

std::shared_ptr<const ServiceConfig> s3rver_config(std::string key_id = kTestAccessKey) {
  auto c = testing::test_service_config("s3", local_servers().s3);
  c->s3_path_style = true;
  c->credentials = testing::test_credentials(std::move(key_id));
  c->retry.max_attempts = 3;
  c->retry.base_delay = std::chrono::milliseconds(1);
  return c;
}

class S3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_ = unique_name("s3test");
    Status s = client_.create_bucket(bucket_);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }

  S3Client client_{s3rver_config()};
  std::string bucket_;
};

TEST_F(S3ServerTest, PutThenGetReturnsTheSameBytesForAwkwardKeys) {
  std::string binary;
  for (int round = 0; round < 64; ++round)
    for (int b = 0; b < 256; ++b) binary.push_back(static_cast<char>(b));
  const std::vector<std::string> keys = {"plain.bin",
                                         "with space/a b.bin",
                                         "plus+sign.bin",
                                         "tilde~and=equals.bin",
                                         "unicode/données-日本.bin",
                                         "run/2024-01-01T00:00:00Z/data/part-00001.json.gz"};
  for (const std::string& key : keys) {
    SCOPED_TRACE(key);
    Result<std::string> etag =
        client_.put_object(bucket_, key, binary, ObjectOptions{}.content_type("application/gzip"));
    ASSERT_TRUE(etag.ok()) << etag.error().to_string();
    EXPECT_EQ(*etag, md5_hex_of(binary));  // quotes stripped
    std::string back = "stale contents";
    Status got = client_.get_object(bucket_, key, back);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(back, binary);
  }
  Result<std::vector<ObjectSummary>> listed = client_.list_objects(bucket_, "");
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  std::vector<std::string> names;
  for (const auto& o : *listed) names.push_back(o.key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(names, sorted);
}

TEST_F(S3ServerTest, GetObjectReadsARange) {
  const std::string body = "0123456789abcdef";
  ASSERT_TRUE(client_.put_object(bucket_, "r.txt", body).ok());
  std::string out;
  ASSERT_TRUE(client_.get_object(bucket_, "r.txt", out, ByteRange{.first = 4, .last = 7}).ok());
  EXPECT_EQ(out, "4567");
  ASSERT_TRUE(client_.get_object(bucket_, "r.txt", out, ByteRange{.first = 10}).ok());
  EXPECT_EQ(out, "abcdef");
}

TEST_F(S3ServerTest, EmptyObjectRoundTrips) {
  ASSERT_TRUE(client_.put_object(bucket_, "empty", "").ok());
  std::string out = "x";
  ASSERT_TRUE(client_.get_object(bucket_, "empty", out).ok());
  EXPECT_EQ(out, "");
}

TEST_F(S3ServerTest, MultipartUploadOfThreePartsReadsBackByteForByte) {
  const std::string key = "multi part/object.bin";
  const std::vector<std::string> parts = {random_bytes(5 << 20, 1), random_bytes(5 << 20, 2),
                                          random_bytes(1 << 20, 3)};
  Result<std::string> upload =
      client_.create_multipart_upload(bucket_, key, ObjectOptions{}.content_type("x/y"));
  ASSERT_TRUE(upload.ok()) << upload.error().to_string();
  ASSERT_FALSE(upload->empty());

  std::vector<CompletedPart> done;
  std::string whole;
  for (size_t i = 0; i < parts.size(); ++i) {
    Result<std::string> etag = client_.upload_part(bucket_, key, *upload, static_cast<int>(i + 1), parts[i]);
    ASSERT_TRUE(etag.ok()) << etag.error().to_string();
    EXPECT_EQ(*etag, md5_hex_of(parts[i]));
    done.push_back({static_cast<int>(i + 1), *etag});
    whole += parts[i];
  }
  Result<std::string> etag = client_.complete_multipart_upload(bucket_, key, *upload, done);
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();

  std::string back;
  ASSERT_TRUE(client_.get_object(bucket_, key, back).ok());
  EXPECT_EQ(back.size(), whole.size());
  EXPECT_TRUE(back == whole);

  // The ETag returned is the object's, as the listing reports it. (AWS makes it "<md5 of the parts'
  // md5s>-3"; s3rver uses the MD5 of the whole object, so only the agreement is checked here.)
  Result<std::vector<ObjectSummary>> listed = client_.list_objects(bucket_, "multi part/");
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].etag, *etag);
  EXPECT_EQ((*listed)[0].size, whole.size());
}

TEST_F(S3ServerTest, ListObjectsFollowsContinuationTokensWithinAPrefix) {
  const std::vector<std::string> inside = {"p/a", "p/b", "p/c", "p/d", "p/e"};
  for (const auto& k : inside) ASSERT_TRUE(client_.put_object(bucket_, k, "body of " + k).ok());
  ASSERT_TRUE(client_.put_object(bucket_, "q/outside", "x").ok());

  Result<ListPage> first = client_.list_objects_page(bucket_, "p/", "", 2);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->objects.size(), 2u);
  EXPECT_TRUE(first->truncated);
  EXPECT_FALSE(first->next_continuation_token.empty());
  Result<ListPage> second = client_.list_objects_page(bucket_, "p/", first->next_continuation_token, 2);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  ASSERT_EQ(second->objects.size(), 2u);
  EXPECT_EQ(second->objects[0].key, "p/c");

  Result<std::vector<ObjectSummary>> all = client_.list_objects(bucket_, "p/", 2);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_EQ(all->size(), inside.size());
  for (size_t i = 0; i < inside.size(); ++i) {
    EXPECT_EQ((*all)[i].key, inside[i]);
    EXPECT_EQ((*all)[i].size, ("body of " + inside[i]).size());
    EXPECT_EQ((*all)[i].etag, md5_hex_of("body of " + inside[i]));
  }
}

TEST_F(S3ServerTest, DeletedObjectIsGone) {
  ASSERT_TRUE(client_.put_object(bucket_, "gone", "x").ok());
  ASSERT_TRUE(client_.delete_object(bucket_, "gone").ok());
  std::string out;
  Status s = client_.get_object(bucket_, "gone", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "NoSuchKey");
  EXPECT_EQ(s.error().http_status, 404);
}

TEST_F(S3ServerTest, HeadBucketOfAnExistingBucketSucceeds) {
  Status s = client_.head_bucket(bucket_);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
}

TEST(S3Server, HeadBucketOfAMissingBucketSaysItDoesNotExist) {
  S3Client client(s3rver_config());
  const std::string bucket = unique_name("missing");
  Status s = client.head_bucket(bucket);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "NoSuchBucket");
  EXPECT_EQ(s.error().http_status, 404);
  EXPECT_NE(s.error().message.find(bucket), std::string::npos) << s.error().message;
  EXPECT_FALSE(s.error().hint.empty());
  EXPECT_EQ(s.error().operation, "HeadBucket");
}

TEST(S3Server, PutIntoAMissingBucketIsNoSuchBucket) {
  S3Client client(s3rver_config());
  const std::string bucket = unique_name("missing");
  Result<std::string> r = client.put_object(bucket, "k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoSuchBucket");
  EXPECT_EQ(r.error().kind, ErrorKind::kClient);
  EXPECT_EQ(r.error().operation, "PutObject");
  EXPECT_EQ(r.error().resource, "s3://" + bucket + "/k");
  EXPECT_NE(r.error().to_string().find(bucket), std::string::npos);
}

TEST(S3Server, WrongAccessKeyIdIsReportedWithTheServersMessage) {
  S3Client good(s3rver_config());
  const std::string bucket = unique_name("s3test");
  ASSERT_TRUE(good.create_bucket(bucket).ok());

  S3Client wrong(s3rver_config("AKIDNOTKNOWNHERE"));
  Result<std::string> r = wrong.put_object(bucket, "k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidAccessKeyId");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_NE(r.error().message.find("Access Key Id"), std::string::npos) << r.error().message;
  EXPECT_FALSE(r.error().hint.empty());

  // A HEAD has no body to explain a 403: HeadBucket asks again with a one-key listing to learn why.
  Status head = wrong.head_bucket(bucket);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, "InvalidAccessKeyId");
  EXPECT_EQ(head.error().http_status, 403);
  EXPECT_NE(head.error().to_string().find(bucket), std::string::npos) << head.error().to_string();
}

}  // namespace
}  // namespace ddb2s3

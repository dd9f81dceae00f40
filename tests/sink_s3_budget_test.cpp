// The S3 sink's part-buffer budget against s3rver: one thread filling several objects at once must not
// wait on itself, and objects written by many threads under the tightest budget all arrive whole.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "s3/s3.h"
#include "sink/sink.h"
#include "support/aws_fixtures.h"
#include "support/files.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::random_bytes;

constexpr uint64_t kMiB = 1 << 20;

std::shared_ptr<ServiceConfig> s3_config() {
  auto c = testing::test_service_config("s3", testing::local_servers().s3);
  c->s3_path_style = true;
  return c;
}

class S3SinkBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_ = testing::unique_name("sinkbudget");
    S3Client client(s3_config());
    Status s = client.create_bucket(bucket_);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }

  std::unique_ptr<Sink> make_sink(int in_flight) {
    auto dest = Destination::parse("s3://" + bucket_ + "/run");
    EXPECT_TRUE(dest.ok());
    S3SinkOptions o;
    o.part_size = 5 * kMiB;
    o.upload_threads = 1;
    o.max_parts_in_flight = in_flight;  // budget: 2 part buffers filled, queued or uploading
    auto sink = make_s3_sink(s3_config(), *dest, o);
    EXPECT_TRUE(sink.ok());
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  void expect_stored(Sink& sink, const std::string& key, const std::string& data,
                     const StoredObject& stored) {
    EXPECT_EQ(stored.size, data.size());
    EXPECT_EQ(stored.md5_base64, testing::md5_base64_of(data));
    auto back = sink.get(key);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_TRUE(back->has_value()) << key;
    EXPECT_TRUE(**back == data) << key << " differs";
  }

  std::string bucket_;
};

TEST_F(S3SinkBudgetTest, OneThreadFillingThreeMultipartObjectsAtOnceFinishesThemAll) {
  auto sink = make_sink(1);
  ASSERT_TRUE(sink);
  std::vector<std::string> data;
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  for (int i = 0; i < 3; ++i) {
    data.push_back(random_bytes(11 * kMiB + 123, i));
    auto w = sink->open("run/interleaved-" + std::to_string(i));
    ASSERT_TRUE(w.ok());
    writers.push_back(std::move(*w));
  }
  // Round robin, 1 MiB at a time: every writer holds a part buffer while the others need one.
  for (size_t off = 0; off < data[0].size(); off += kMiB)
    for (int i = 0; i < 3; ++i) {
      Status s = writers[i]->write(std::string_view(data[i]).substr(off, kMiB));
      ASSERT_TRUE(s.ok()) << s.error().to_string();
    }
  for (int i = 0; i < 3; ++i) {
    auto stored = writers[i]->finish();
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
    expect_stored(*sink, "run/interleaved-" + std::to_string(i), data[i], *stored);
  }
}

TEST_F(S3SinkBudgetTest, EightThreadsUnderABudgetOfTwoBuffersAllComplete) {
  auto sink = make_sink(1);
  ASSERT_TRUE(sink);
  std::vector<std::string> data;
  for (int t = 0; t < 8; ++t) data.push_back(random_bytes((t % 2 ? 11 : 3) * kMiB + t, 100 + t));
  std::vector<Result<StoredObject>> stored(8, Error::internal("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      auto w = sink->open("run/threaded-" + std::to_string(t));
      if (!w) return;
      for (size_t off = 0; off < data[t].size(); off += 700 * 1024)
        if (Status s = (*w)->write(std::string_view(data[t]).substr(off, 700 * 1024)); !s) return;
      stored[t] = (*w)->finish();
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    ASSERT_TRUE(stored[t].ok()) << t << ": " << stored[t].error().to_string();
    expect_stored(*sink, "run/threaded-" + std::to_string(t), data[t], *stored[t]);
  }
}

}  // namespace
}  // namespace ddb2s3

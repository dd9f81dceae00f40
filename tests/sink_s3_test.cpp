// The S3 sink against s3rver (round trips, multipart, many writers under back-pressure, object
// options) and against an in-process fake S3 for what s3rver cannot show: failing parts, aborts,
// a 200 carrying an <Error>, and how many parts are in flight at once.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "sink/sink.h"
#include "support/aws_fixtures.h"
#include "support/files.h"
#include "support/http_server.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using testing::random_bytes;

using testing::kTestAccessKey;
using testing::local_servers;
using testing::md5_base64_of;
using testing::md5_hex_of;
using testing::TestHttpServer;
using testing::unique_name;

constexpr uint64_t kMiB = 1 << 20;

std::shared_ptr<ServiceConfig> config_for(std::string endpoint, std::string key_id = kTestAccessKey) {
  auto c = testing::test_service_config("s3", std::move(endpoint));
  c->s3_path_style = true;
  c->credentials = testing::test_credentials(std::move(key_id));
  c->retry.max_attempts = 2;
  c->retry.base_delay = std::chrono::milliseconds(1);
  c->clock.sleep = [](std::chrono::milliseconds) {};  // retries without waiting
  return c;
}

// Writes data in pieces of awkward sizes (1 byte, primes, a bit over 1 MiB...), as a compressor would.
Status write_in_odd_pieces(ObjectWriter& w, std::string_view data) {
  static constexpr size_t kSizes[] = {1, 7919, 65537, (1 << 20) + 3, 3, 262147, 2 * (1 << 20) - 1};
  for (size_t i = 0; !data.empty(); ++i) {
    size_t n = std::min(data.size(), kSizes[i % std::size(kSizes)]);
    if (Status s = w.write(data.substr(0, n)); !s) return s;
    data.remove_prefix(n);
  }
  return {};
}

Destination dest_for(const std::string& bucket, const std::string& prefix = "run") {
  auto d = Destination::parse("s3://" + bucket + "/" + prefix);
  EXPECT_TRUE(d.ok());
  return *d;
}

std::unique_ptr<Sink> sink_or_die(std::shared_ptr<const ServiceConfig> config, const Destination& dest,
                                  S3SinkOptions options) {
  auto sink = make_s3_sink(std::move(config), dest, std::move(options));
  EXPECT_TRUE(sink.ok()) << sink.error().to_string();
  return sink.ok() ? std::move(*sink) : nullptr;
}

S3SinkOptions small_parts(int threads = 2, int in_flight = 4) {
  S3SinkOptions o;
  o.part_size = 5 * kMiB;
  o.upload_threads = threads;
  o.max_parts_in_flight = in_flight;
  return o;
}

// ---- s3rver ---------------------------------------------------------------------------------------

class S3SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_ = unique_name("sinktest");
    Status s = client_.create_bucket(bucket_);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    dest_ = dest_for(bucket_);
  }

  // The object's response headers as s3rver serves them (HEAD through a signed request).
  HttpResponse head(const std::string& key) {
    AwsClient aws(config_);
    HttpRequest req;
    req.method = "HEAD";
    req.url = s3_object_url(*config_, bucket_, key);
    HttpResponse resp;
    Status s = aws.send(req, resp, CallInfo{.operation = "HeadObject", .resource = key});
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return resp;
  }

  std::shared_ptr<ServiceConfig> config_ = config_for(local_servers().s3);
  S3Client client_{config_};
  std::string bucket_;
  Destination dest_;
};

TEST_F(S3SinkTest, CheckPassesForTheBucketAndNamesAMissingBucketOrABadKey) {
  auto sink = sink_or_die(config_, dest_, {});
  Status ok = sink->check();
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();

  auto missing = sink_or_die(config_, dest_for(unique_name("nobucket")), {});
  Status s = missing->check();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "NoSuchBucket");

  auto denied = sink_or_die(config_for(local_servers().s3, "WRONGKEY"), dest_, {});
  s = denied->check();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().http_status, 403);
}

TEST_F(S3SinkTest, SmallObjectIsOnePutObjectWithItsMd5AndEtag) {
  auto sink = sink_or_die(config_, dest_, small_parts());
  const std::string key = dest_.key("data/small.json");
  auto w = sink->open(key);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  std::string content;
  for (int i = 0; i < 100; ++i) {
    std::string line = "{\"id\":" + std::to_string(i) + "}\n";
    content += line;
    ASSERT_TRUE((*w)->write(line).ok());
  }
  auto stored = (*w)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->key, "run/data/small.json");
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->md5_base64, md5_base64_of(content));
  EXPECT_EQ(stored->etag.find('-'), std::string::npos) << stored->etag;  // not a multipart ETag
  EXPECT_EQ(stored->etag.size(), 32u);
  EXPECT_EQ(stored->etag.find('"'), std::string::npos);

  auto back = sink->get(key);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, content);
  EXPECT_EQ(std::string(head(key).header("etag")), "\"" + stored->etag + "\"");
}

TEST_F(S3SinkTest, EmptyObjectAndObjectOfExactlyOnePartArePlainPuts) {
  auto sink = sink_or_die(config_, dest_, small_parts());
  auto empty = sink->open(dest_.key("empty"));
  ASSERT_TRUE(empty.ok());
  auto stored = (*empty)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->size, 0u);
  EXPECT_EQ(stored->md5_base64, "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(stored->etag, "d41d8cd98f00b204e9800998ecf8427e");

  const std::string content = random_bytes(5 * kMiB, 1);
  auto one = sink->open(dest_.key("one-part"));
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(write_in_odd_pieces(**one, content).ok());
  stored = (*one)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->etag.find('-'), std::string::npos) << stored->etag;
  EXPECT_EQ(stored->md5_base64, md5_base64_of(content));
}

TEST_F(S3SinkTest, ThreePartObjectReadsBackByteForByte) {
  auto sink = sink_or_die(config_, dest_, small_parts());
  const std::string key = dest_.key("data/big.bin");
  const std::string content = random_bytes(12 * kMiB + 12345, 42);
  auto w = sink->open(key);
  ASSERT_TRUE(w.ok());
  Status s = write_in_odd_pieces(**w, content);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  auto stored = (*w)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->md5_base64, md5_base64_of(content));
  // S3 would say "<md5 of the parts' md5s>-3"; s3rver's ETag of a multipart object is the MD5 of all of
  // it. The part layout is checked against the fake S3 below.
  EXPECT_EQ(stored->etag, md5_hex_of(content));

  auto back = sink->get(key);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_TRUE(back->has_value());
  EXPECT_TRUE(**back == content) << "sizes " << (*back)->size() << " vs " << content.size();

  // A writer is done once finished.
  EXPECT_FALSE((*w)->write("more").ok());
  EXPECT_FALSE((*w)->finish().ok());
}

TEST_F(S3SinkTest, ManyWritersUnderTightBackPressureAllComplete) {
  auto sink = sink_or_die(config_, dest_, small_parts(/*threads=*/3, /*in_flight=*/2));
  constexpr int kThreads = 8, kObjectsEach = 2;
  std::vector<std::vector<StoredObject>> stored(kThreads);
  std::vector<std::string> errors(kThreads);
  auto content_of = [](int t, int o) {
    // Every other object is multipart (two or three parts); the rest are small.
    size_t size = (o % 2 == 0) ? (5 + t % 3) * kMiB + 1000 * t + 1 : 1000 + 10 * t;
    return random_bytes(size, 1000 * t + o);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int o = 0; o < kObjectsEach; ++o) {
        auto w = sink->open(dest_.key("data/" + std::to_string(t) + "-" + std::to_string(o)));
        if (!w) {
          errors[t] = w.error().to_string();
          return;
        }
        if (Status s = write_in_odd_pieces(**w, content_of(t, o)); !s) {
          errors[t] = s.error().to_string();
          return;
        }
        auto done = (*w)->finish();
        if (!done) {
          errors[t] = done.error().to_string();
          return;
        }
        stored[t].push_back(*done);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "") << "writer thread " << t;
    ASSERT_EQ(stored[t].size(), static_cast<size_t>(kObjectsEach));
    for (int o = 0; o < kObjectsEach; ++o) {
      const std::string content = content_of(t, o);
      EXPECT_EQ(stored[t][o].md5_base64, md5_base64_of(content));
      auto back = sink->get(stored[t][o].key);
      ASSERT_TRUE(back.ok() && back->has_value()) << stored[t][o].key;
      EXPECT_TRUE(**back == content) << stored[t][o].key;
    }
  }
  auto keys = sink->list(dest_.key("data/"));
  ASSERT_TRUE(keys.ok()) << keys.error().to_string();
  EXPECT_EQ(keys->size(), static_cast<size_t>(kThreads * kObjectsEach));
  EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));
}

TEST_F(S3SinkTest, ObjectOptionsReachEveryObject) {
  S3SinkOptions options = small_parts();
  options.object_options.metadata("run-id", "r-17").content_type("application/x-ndjson");
  auto sink = sink_or_die(config_, dest_, options);

  auto small = sink->open(dest_.key("data/small"));
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE((*small)->write("x\n").ok());
  ASSERT_TRUE((*small)->finish().ok());
  auto big = sink->open(dest_.key("data/big"));
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE(write_in_odd_pieces(**big, random_bytes(6 * kMiB, 3)).ok());
  auto stored = (*big)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  auto manifest = sink->put(dest_.key("manifest-summary.json"), "{}", "application/json");
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  EXPECT_EQ(manifest->md5_base64, md5_base64_of("{}"));
  EXPECT_EQ(manifest->size, 2u);

  for (const char* rel : {"data/small", "data/big"}) {
    HttpResponse h = head(dest_.key(rel));
    EXPECT_EQ(h.header("x-amz-meta-run-id"), "r-17") << rel;
    EXPECT_EQ(h.header("content-type"), "application/x-ndjson") << rel;
  }
  HttpResponse h = head(dest_.key("manifest-summary.json"));
  EXPECT_EQ(h.header("x-amz-meta-run-id"), "r-17");
  EXPECT_EQ(h.header("content-type"), "application/json");  // put's own content type wins
}

TEST_F(S3SinkTest, GetOfAMissingKeyIsNulloptAndListIsSortedUnderThePrefix) {
  auto sink = sink_or_die(config_, dest_, {});
  auto missing = sink->get(dest_.key("nothing-here"));
  ASSERT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_FALSE(missing->has_value());

  for (const char* rel : {"segments/2.json", "segments/10.json", "segments/1.json", "other.json"})
    ASSERT_TRUE(sink->put(dest_.key(rel), rel, "application/json").ok());
  auto keys = sink->list(dest_.key("segments/"));
  ASSERT_TRUE(keys.ok()) << keys.error().to_string();
  EXPECT_EQ(*keys,
            (std::vector<std::string>{"run/segments/1.json", "run/segments/10.json", "run/segments/2.json"}));
  EXPECT_EQ(sink->describe("run/x"), "s3://" + bucket_ + "/run/x");

  auto nobucket = sink_or_die(config_, dest_for(unique_name("nobucket")), {});
  auto err = nobucket->get("k");
  ASSERT_FALSE(err.ok());  // a missing bucket is an error, not an absent object
  EXPECT_EQ(err.error().code, "NoSuchBucket");
}

TEST_F(S3SinkTest, ListObjectsGivesSizesAndETagsAndReadGivesRanges) {
  auto sink = sink_or_die(config_, dest_, {});
  auto small = sink->put(dest_.key("data/b.json"), "hello, world\n", "");
  ASSERT_TRUE(small.ok()) << small.error().to_string();
  ASSERT_TRUE(sink->put(dest_.key("data/a.json"), "a", "").ok());
  auto objects = sink->list_objects(dest_.key("data/"));
  ASSERT_TRUE(objects.ok()) << objects.error().to_string();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].key, "run/data/a.json");
  EXPECT_EQ((*objects)[1].key, "run/data/b.json");
  EXPECT_EQ((*objects)[1].size, 13u);
  EXPECT_EQ((*objects)[1].etag, small->etag);

  std::string out;
  ASSERT_TRUE(sink->read(dest_.key("data/b.json"), 7, 5, out).ok());
  EXPECT_EQ(out, "world");
  ASSERT_TRUE(sink->read(dest_.key("data/b.json"), 0, 13, out).ok());
  EXPECT_EQ(out, "hello, world\n");
  EXPECT_FALSE(sink->read(dest_.key("data/absent.json"), 0, 5, out).ok());
}

TEST(S3SinkOptions, BadOptionsAreUsageErrors) {
  auto config = config_for("http://127.0.0.1:9");
  auto dest = dest_for("some-bucket");
  S3SinkOptions o;
  o.part_size = 5 * kMiB - 1;
  auto r = make_s3_sink(config, dest, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  o = {};
  o.upload_threads = 0;
  EXPECT_FALSE(make_s3_sink(config, dest, o).ok());
  o = {};
  o.max_parts_in_flight = 0;
  EXPECT_FALSE(make_s3_sink(config, dest, o).ok());
  auto local = Destination::parse("/tmp/somewhere");
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE(make_s3_sink(config, *local, {}).ok());
}

TEST(S3SinkPartSize, GrowsEvery1000PartsUpTo5GiB) {
  EXPECT_EQ(s3_part_size(8 * kMiB, 1), 8 * kMiB);
  EXPECT_EQ(s3_part_size(8 * kMiB, 1000), 8 * kMiB);
  EXPECT_EQ(s3_part_size(8 * kMiB, 1001), 16 * kMiB);
  EXPECT_EQ(s3_part_size(8 * kMiB, 2001), 32 * kMiB);
  EXPECT_EQ(s3_part_size(8 * kMiB, 10000), 4096 * kMiB);
  EXPECT_EQ(s3_part_size(4096 * kMiB, 2001), 5120 * kMiB);
  uint64_t total = 0;  // 10000 parts hold S3's largest object (5 TiB) from the default part size
  for (int n = 1; n <= 10000; ++n) total += s3_part_size(8 * kMiB, n);
  EXPECT_GE(total, 5ull << 40);
}

// ---- a fake S3 for failures --------------------------------------------------------------------------

struct Seen {
  std::string method, upload_id, part_number, body;
  size_t size = 0;
  std::string content_md5, body_md5;  // of parts: the header sent, and the MD5 of the body received
};

// Answers the multipart calls like S3; part_status/complete_body decide the failures.
class FakeS3 {
 public:
  explicit FakeS3(std::function<int(int part)> part_status = {}, std::string complete_body = {})
      : part_status_(std::move(part_status)), complete_body_(std::move(complete_body)) {
    auto& s = server_.server();
    s.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      if (req.has_param("uploads")) {
        res.set_content(
            "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
            "application/xml");
      } else if (!complete_body_.empty()) {
        res.set_content(complete_body_, "application/xml");
      } else {
        res.set_content(
            "<CompleteMultipartUploadResult><ETag>\"abc-3\"</ETag></CompleteMultipartUploadResult>",
            "application/xml");
      }
    });
    s.Put(".*", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      if (!req.has_param("partNumber")) {
        res.set_header("ETag", "\"single\"");
        return;
      }
      int part = std::stoi(req.get_param_value("partNumber"));
      on_part(part);
      int status = part_status_ ? part_status_(part) : 200;
      if (status != 200) {
        res.status = status;
        res.set_content("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                        "application/xml");
        return;
      }
      res.set_header("ETag", "\"etag-" + std::to_string(part) + "\"");
    });
    s.Delete(".*", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = 204;
    });
    server_.start();
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool saw_abort() const {
    for (const Seen& s : seen())
      if (s.method == "DELETE" && s.upload_id == "up-1") return true;
    return false;
  }
  std::string url() const { return server_.url(); }

  std::function<void(int part)> on_part = [](int) {};

 private:
  void record(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    const bool part = req.has_param("partNumber");
    seen_.push_back(Seen{req.method, req.get_param_value("uploadId"), req.get_param_value("partNumber"),
                         part ? std::string() : req.body, req.body.size(),
                         part ? req.get_header_value("Content-MD5") : "", part ? md5_base64_of(req.body) : ""});
  }

  std::function<int(int)> part_status_;
  std::string complete_body_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  TestHttpServer server_;  // last: stopped first, while the handlers' state is alive
};

TEST(S3SinkFailures, AFailedPartFailsTheWriterWithKeyAndCodeAndAbortsTheUpload) {
  FakeS3 s3([](int part) { return part == 2 ? 403 : 200; });
  auto sink = sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts());
  const std::string key = "run/data/0.json.gz";
  auto w = sink->open(key);
  ASSERT_TRUE(w.ok());
  const std::string content = random_bytes(16 * kMiB, 5);
  Status s = write_in_odd_pieces(**w, content);
  std::optional<Error> error;
  if (!s.ok()) error = s.error();
  auto done = (*w)->finish();
  ASSERT_FALSE(done.ok());
  if (!error) error = done.error();
  EXPECT_EQ(error->code, "AccessDenied");
  EXPECT_EQ(error->operation, "UploadPart");
  EXPECT_NE(error->to_string().find("fake-bucket/" + key), std::string::npos) << error->to_string();
  EXPECT_NE(error->to_string().find("Access Denied"), std::string::npos) << error->to_string();
  EXPECT_EQ(done.error().code, "AccessDenied");  // the writer stays failed
  EXPECT_TRUE(s3.saw_abort());
  for (const Seen& seen : s3.seen())
    EXPECT_FALSE(seen.method == "POST" && !seen.upload_id.empty()) << "completed";
}

TEST(S3SinkFailures, AWriterDestroyedUnfinishedAbortsAfterItsPartsAreDone) {
  FakeS3 s3;
  auto sink = sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts());
  {
    auto w = sink->open("run/data/1.json.gz");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(write_in_odd_pieces(**w, random_bytes(11 * kMiB, 6)).ok());
  }
  auto seen = s3.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().method, "DELETE");  // the abort comes after every part
  EXPECT_EQ(seen.back().upload_id, "up-1");
  for (const Seen& s : seen) EXPECT_FALSE(s.method == "POST" && !s.upload_id.empty()) << "completed";
}

TEST(S3SinkFailures, CompleteAnswered200WithAnErrorIsAnErrorAndAborts) {
  FakeS3 s3({},
            "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>");
  auto sink = sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts());
  auto w = sink->open("run/data/2.json.gz");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(write_in_odd_pieces(**w, random_bytes(11 * kMiB, 7)).ok());
  auto done = (*w)->finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, "InternalError");
  EXPECT_EQ(done.error().operation, "CompleteMultipartUpload");
  EXPECT_TRUE(s3.saw_abort());
}

TEST(S3SinkFailures, PartsAreFullSizeWithTheirMd5AndCompleteListsThemInOrder) {
  FakeS3 s3;
  auto sink = sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts(4, 8));
  auto w = sink->open("run/data/3.json.gz");
  ASSERT_TRUE(w.ok());
  const std::string content = random_bytes(20 * kMiB + 17, 8);  // 5 parts, the last of 17 bytes
  ASSERT_TRUE(write_in_odd_pieces(**w, content).ok());
  auto done = (*w)->finish();
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->etag, "abc-3");  // as Complete answered, unquoted
  EXPECT_EQ(done->md5_base64, md5_base64_of(content));
  EXPECT_EQ(done->size, content.size());
  std::map<int, Seen> parts;
  for (const Seen& s : s3.seen())
    if (!s.part_number.empty()) parts[std::stoi(s.part_number)] = s;
  ASSERT_EQ(parts.size(), 5u);
  for (auto& [number, part] : parts) {
    EXPECT_EQ(part.size, number < 5 ? 5 * kMiB : 17u) << "part " << number;
    EXPECT_EQ(part.content_md5, part.body_md5) << "part " << number;
  }
  std::string complete;
  for (const Seen& s : s3.seen())
    if (s.method == "POST" && !s.upload_id.empty()) complete = s.body;
  std::string expected;
  for (int p = 1; p <= 5; ++p)
    expected += "<Part><ETag>&quot;etag-" + std::to_string(p) + "&quot;</ETag><PartNumber>" +
                std::to_string(p) + "</PartNumber></Part>";
  EXPECT_NE(complete.find(expected), std::string::npos) << complete;
  EXPECT_FALSE(s3.saw_abort());
}

TEST(S3SinkFailures, DestroyingTheSinkCancelsAnOpenWritersUpload) {
  FakeS3 s3;
  auto sink = sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts());
  auto w = sink->open("run/data/4.json.gz");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(write_in_odd_pieces(**w, random_bytes(11 * kMiB, 9)).ok());
  sink.reset();  // joins the uploader threads
  auto done = (*w)->finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind, ErrorKind::kCancelled);
  EXPECT_TRUE(s3.saw_abort());
}

TEST(S3SinkFailures, PartsInFlightNeverExceedTheCap) {
  FakeS3 s3;
  std::mutex mu;
  std::condition_variable cv;
  int active = 0, max_active = 0;
  // Each part is held until a third one is uploading at the same time (which the cap of 2 forbids)
  // or 100 ms have passed, so that a broken cap shows within one part.
  s3.on_part = [&](int) {
    std::unique_lock lock(mu);
    max_active = std::max(max_active, ++active);
    cv.notify_all();
    cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return active > 2; });
    --active;
  };
  auto sink =
      sink_or_die(config_for(s3.url()), dest_for("fake-bucket"), small_parts(/*threads=*/4, /*in_flight=*/2));
  std::vector<std::thread> writers;
  std::atomic<int> finished{0};
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      auto w = sink->open("run/data/w" + std::to_string(t));
      if (!w || !write_in_odd_pieces(**w, random_bytes(11 * kMiB, 20 + t)).ok()) return;
      if ((*w)->finish().ok()) ++finished;
    });
  }
  for (auto& th : writers) th.join();
  EXPECT_EQ(finished.load(), 3);
  EXPECT_EQ(max_active, 2);
}

}  // namespace
}  // namespace ddb2s3

// Requests that S3 carried out but whose answer was lost on the way back: CompleteMultipartUpload retried
// after it succeeded answers NoSuchUpload, and the sink checks the object (HeadObject: size and multipart
// ETag) before it carries on; AbortMultipartUpload retried after it succeeded answers NoSuchUpload too.
// An in-process S3 that assembles uploads for real and drops chosen connections before it answers.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>

#include "base/encoding.h"
#include "sink/sink.h"
#include "support/aws_fixtures.h"
#include "support/files.h"
#include "support/http_server.h"

namespace ddb2s3 {
namespace {

using testing::md5_hex_of;
using testing::random_bytes;
using testing::TestHttpServer;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kPartSize = 5 * kMiB;

// What the object under the key is after a Complete, or what another writer put there.
struct StoredAt {
  uint64_t size = 0;
  std::string etag;
};

// S3's multipart ETag, computed here from the bytes the server received (independently of the sink).
std::string etag_of_parts(const std::vector<std::string>& part_bodies) {
  std::string md5s;
  for (const std::string& body : part_bodies) {
    std::string hex = md5_hex_of(body);
    for (size_t i = 0; i < hex.size(); i += 2)
      md5s.push_back(static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
  }
  return md5_hex_of(md5s) + "-" + std::to_string(part_bodies.size());
}

std::string xml_error(const std::string& code, const std::string& message) {
  return "<Error><Code>" + code + "</Code><Message>" + message + "</Message></Error>";
}

// The connection is closed after the headers: the client sees a truncated answer (a transient failure).
void drop_answer(httplib::Response& res) {
  res.set_content_provider(64, "application/xml", [](size_t, size_t, httplib::DataSink&) { return false; });
}

class LossyS3 {
 public:
  enum class OnComplete {
    kAnswer,           // as S3 does
    kDoThenDrop,       // assemble the object, then drop the answer: the retry finds no upload
    kGone,             // NoSuchUpload at once: the upload was aborted elsewhere, no object
    kOtherWriterWins,  // drop the answer; meanwhile another writer's object took the key
  };

  explicit LossyS3(OnComplete on_complete, bool drop_first_abort = false)
      : on_complete_(on_complete), drop_first_abort_(drop_first_abort) {
    server_.serve_all([this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    server_.start();
  }
  std::string url() const { return server_.url(); }
  int completes() const {
    std::lock_guard lock(mu_);
    return completes_;
  }
  int aborts() const {
    std::lock_guard lock(mu_);
    return aborts_;
  }
  bool upload_open() const {
    std::lock_guard lock(mu_);
    return !uploads_.empty();
  }
  std::optional<StoredAt> object(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find(path);
    return it == objects_.end() ? std::nullopt : std::optional<StoredAt>(it->second);
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    const std::string id = req.get_param_value("uploadId");
    if (req.method == "HEAD" || req.method == "GET") {
      auto it = objects_.find(req.path);
      if (it == objects_.end()) {
        res.status = 404;
        return res.set_content(xml_error("NoSuchKey", "The specified key does not exist."),
                               "application/xml");
      }
      res.set_header("ETag", "\"" + it->second.etag + "\"");
      res.set_content(std::string(it->second.size, 'x'), "application/octet-stream");
    } else if (req.method == "POST" && req.has_param("uploads")) {
      uploads_["up-1"] = {};
      res.set_content(
          "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
          "application/xml");
    } else if (req.method == "PUT" && req.has_param("partNumber")) {
      auto& parts = uploads_[id];
      size_t n = std::stoul(req.get_param_value("partNumber"));
      if (parts.size() < n) parts.resize(n);
      parts[n - 1] = req.body;
      res.set_header("ETag", "\"" + md5_hex_of(req.body) + "\"");
    } else if (req.method == "POST" && !id.empty()) {
      ++completes_;
      complete(req, res, id);
    } else if (req.method == "DELETE" && !id.empty()) {
      ++aborts_;
      if (uploads_.erase(id) == 0) {
        res.status = 404;
        return res.set_content(xml_error("NoSuchUpload", "The specified upload does not exist."),
                               "application/xml");
      }
      if (drop_first_abort_ && aborts_ == 1) return drop_answer(res);  // aborted, but the answer is lost
      res.status = 204;
    } else {
      res.status = 400;
    }
  }

  void complete(const httplib::Request& req, httplib::Response& res, const std::string& id) {
    auto it = uploads_.find(id);
    if (it == uploads_.end() || on_complete_ == OnComplete::kGone) {
      res.status = 404;
      return res.set_content(xml_error("NoSuchUpload", "The specified upload does not exist."),
                             "application/xml");
    }
    uint64_t size = 0;
    for (const std::string& p : it->second) size += p.size();
    const std::string etag = etag_of_parts(it->second);
    uploads_.erase(it);
    if (on_complete_ == OnComplete::kOtherWriterWins) {
      objects_[req.path] = StoredAt{size + 1, "0123456789abcdef0123456789abcdef-1"};
      return drop_answer(res);
    }
    objects_[req.path] = StoredAt{size, etag};
    if (on_complete_ == OnComplete::kDoThenDrop) return drop_answer(res);
    res.set_content(
        "<CompleteMultipartUploadResult><ETag>\"" + etag + "\"</ETag></CompleteMultipartUploadResult>",
        "application/xml");
  }

  const OnComplete on_complete_;
  const bool drop_first_abort_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> uploads_;  // upload id -> part bodies
  std::map<std::string, StoredAt> objects_;                  // /bucket/key -> object
  int completes_ = 0, aborts_ = 0;
  TestHttpServer server_;  // last: stopped first, while the handlers' state is alive
};

std::unique_ptr<Sink> sink_for(const LossyS3& s3) {
  auto c = testing::test_service_config("s3", s3.url());
  c->s3_path_style = true;
  c->retry.max_attempts = 3;
  c->clock.sleep = [](std::chrono::milliseconds) {};  // retries without waiting
  auto d = Destination::parse("s3://fake-bucket/exports");
  EXPECT_TRUE(d.ok());
  S3SinkOptions o;
  o.part_size = kPartSize;
  auto sink = make_s3_sink(c, *d, o);
  EXPECT_TRUE(sink.ok()) << sink.error().to_string();
  return std::move(*sink);
}

const std::string kKey = "exports/r1/data/0000-00000.json.gz";
const std::string kPath = "/fake-bucket/" + kKey;

// 11 MiB in 5 MiB parts: three parts, and the ETag S3 gives them.
struct Content {
  std::string bytes = random_bytes(11 * kMiB, 3);
  std::string etag() const {
    return etag_of_parts(
        {bytes.substr(0, kPartSize), bytes.substr(kPartSize, kPartSize), bytes.substr(2 * kPartSize)});
  }
};

Result<StoredObject> write_object(Sink& sink, const std::string& bytes) {
  auto w = sink.open(kKey);
  if (!w) return std::move(w).error();
  DDB2S3_RETURN_IF_ERROR((*w)->write(bytes));
  return (*w)->finish();
}

TEST(S3SinkLostAnswer, ACompleteWhoseAnswerWasLostFinishesWithTheObjectsEtag) {
  LossyS3 s3(LossyS3::OnComplete::kDoThenDrop);
  auto sink = sink_for(s3);
  Content c;
  auto stored = write_object(*sink, c.bytes);
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(s3.completes(), 2);  // carried out, then retried: NoSuchUpload
  EXPECT_EQ(stored->etag, c.etag());
  EXPECT_EQ(stored->size, c.bytes.size());
  EXPECT_EQ(stored->md5_base64, testing::md5_base64_of(c.bytes));
  EXPECT_EQ(s3.aborts(), 0);
  ASSERT_TRUE(s3.object(kPath));
  EXPECT_EQ(s3.object(kPath)->etag, c.etag());
}

TEST(S3SinkLostAnswer, NoSuchUploadWithoutTheObjectIsAnErrorNamingTheKey) {
  LossyS3 s3(LossyS3::OnComplete::kGone);
  auto sink = sink_for(s3);
  auto stored = write_object(*sink, Content().bytes);
  ASSERT_FALSE(stored.ok());
  const std::string text = stored.error().to_string();
  EXPECT_EQ(stored.error().code, "NoSuchUpload");
  EXPECT_EQ(stored.error().operation, "CompleteMultipartUpload");
  EXPECT_NE(text.find("s3://fake-bucket/" + kKey + "' does not exist"), std::string::npos) << text;
  EXPECT_FALSE(stored.error().retryable());
  EXPECT_FALSE(s3.object(kPath));
}

TEST(S3SinkLostAnswer, NoSuchUploadWithAnotherObjectUnderTheKeyIsAnErrorNamingBothEtags) {
  LossyS3 s3(LossyS3::OnComplete::kOtherWriterWins);
  auto sink = sink_for(s3);
  Content c;
  auto stored = write_object(*sink, c.bytes);
  ASSERT_FALSE(stored.ok());
  const std::string text = stored.error().to_string();
  EXPECT_EQ(s3.completes(), 2);
  EXPECT_EQ(stored.error().code, "NoSuchUpload");
  EXPECT_NE(text.find("s3://fake-bucket/" + kKey), std::string::npos) << text;
  EXPECT_NE(text.find("0123456789abcdef0123456789abcdef-1"), std::string::npos) << text;
  EXPECT_NE(text.find(c.etag()), std::string::npos) << text;
  EXPECT_NE(text.find("another writer"), std::string::npos) << text;
}

TEST(S3SinkLostAnswer, AnAbortWhoseAnswerWasLostIsDoneWhenTheRetryFindsNoUpload) {
  LossyS3 s3(LossyS3::OnComplete::kAnswer, /*drop_first_abort=*/true);
  auto c = testing::test_service_config("s3", s3.url());
  c->s3_path_style = true;
  c->retry.max_attempts = 3;
  c->clock.sleep = [](std::chrono::milliseconds) {};
  S3Client client(c);
  auto id = client.create_multipart_upload("fake-bucket", kKey);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  Status s = client.abort_multipart_upload("fake-bucket", kKey, *id);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s3.aborts(), 2);  // carried out, answer lost; the retry answered NoSuchUpload
  EXPECT_FALSE(s3.upload_open());
}

TEST(S3SinkLostAnswer, HeadObjectGivesSizeAndEtagOrNothing) {
  LossyS3 s3(LossyS3::OnComplete::kAnswer);
  auto sink = sink_for(s3);
  Content c;
  ASSERT_TRUE(write_object(*sink, c.bytes).ok());
  S3Client client(testing::test_service_config("s3", s3.url()));
  auto head = client.head_object("fake-bucket", kKey);
  ASSERT_TRUE(head.ok()) << head.error().to_string();
  ASSERT_TRUE(*head);
  EXPECT_EQ((*head)->size, c.bytes.size());
  EXPECT_EQ((*head)->etag, c.etag());
  auto missing = client.head_object("fake-bucket", "exports/none");
  ASSERT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_FALSE(*missing);
}

TEST(S3MultipartEtag, IsTheMd5OfThePartsMd5sAndTheirCount) {
  // Two parts "a" and "b": MD5s 0cc175b9c0f1b6a831c399e269772661 and 92eb5ffee6ae2fec3ad71c777531578f.
  std::string md5s;
  for (const char* hex : {"0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"})
    for (size_t i = 0; i < 32; i += 2)
      md5s.push_back(static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
  EXPECT_EQ(multipart_etag(md5s), md5_hex_of(md5s) + "-2");
  EXPECT_EQ(multipart_etag(md5s), etag_of_parts({"a", "b"}));
}

}  // namespace
}  // namespace ddb2s3

// ddb2s3-sim: a fast local stand-in for DynamoDB (Scan, DescribeTable) and S3 (HeadBucket, PutObject,
// multipart upload) for benchmarks, where dynalite and s3rver would be the bottleneck. The table is
// synthetic (sim/table.h); the S3 side checks sizes and Content-MD5 and keeps nothing.
// Prints "ready dynamodb=URL s3=URL" on stdout once both ports listen; stops on SIGTERM/SIGINT.
// With --tls-cert/--tls-key both sides speak HTTPS only (the URLs are then https://).
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/table.h"

namespace ddb2s3::bench {
namespace {

struct SimOptions {
  TableOptions table;
  int dynamodb_port = 0;  // 0: a free port
  int s3_port = 0;
  int latency_ms = 0;        // added to every request
  double throttle_rate = 0;  // Scan: ProvisionedThroughputExceededException; S3: 503 SlowDown
  double error_rate = 0;     // 500 InternalServerError / InternalError
  double reset_rate = 0;     // the connection drops halfway through the response body
  double read_capacity = 0;  // RCU per second for Scan (as ConsumedCapacity counts them); 0: unlimited
  // What DescribeTable reports of read capacity (0: left out); PAY_PER_REQUEST unless provisioned_rcu > 0.
  int64_t provisioned_rcu = 0;
  int64_t on_demand_max_rru = 0;
  int64_t warm_rcu = 0;
  size_t page_bytes = 1 << 20;    // item JSON per Scan page (DynamoDB's 1 MB)
  int threads = 256;              // httplib keeps a thread per keep-alive connection
  std::string tls_cert, tls_key;  // PEM files: both sides serve HTTPS instead of HTTP
};

constexpr const char* kUsage =
    "usage: ddb2s3-sim [--items N] [--item-bytes B] [--seed S] [--table NAME] [--no-sets-binary]\n"
    "  [--dynamodb-port P] [--s3-port P] [--latency-ms MS] [--throttle-rate F] [--error-rate F]\n"
    "  [--reset-rate F] [--read-capacity RCU] [--page-bytes B] [--threads N]\n"
    "  [--provisioned-rcu N] [--on-demand-max-rru N] [--warm-rcu N] [--tls-cert PEM --tls-key PEM]\n";

bool parse_args(int argc, char** argv, SimOptions& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-sets-binary") {
      o.table.sets_and_binary = false;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    if (a == "--items")
      o.table.items = std::strtoull(v, nullptr, 10);
    else if (a == "--item-bytes")
      o.table.average_item_bytes = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (a == "--seed")
      o.table.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--table")
      o.table.name = v;
    else if (a == "--dynamodb-port")
      o.dynamodb_port = std::atoi(v);
    else if (a == "--s3-port")
      o.s3_port = std::atoi(v);
    else if (a == "--latency-ms")
      o.latency_ms = std::atoi(v);
    else if (a == "--throttle-rate")
      o.throttle_rate = std::atof(v);
    else if (a == "--error-rate")
      o.error_rate = std::atof(v);
    else if (a == "--reset-rate")
      o.reset_rate = std::atof(v);
    else if (a == "--read-capacity")
      o.read_capacity = std::atof(v);
    else if (a == "--provisioned-rcu")
      o.provisioned_rcu = std::strtoll(v, nullptr, 10);
    else if (a == "--on-demand-max-rru")
      o.on_demand_max_rru = std::strtoll(v, nullptr, 10);
    else if (a == "--warm-rcu")
      o.warm_rcu = std::strtoll(v, nullptr, 10);
    else if (a == "--page-bytes")
      o.page_bytes = std::strtoull(v, nullptr, 10);
    else if (a == "--threads")
      o.threads = std::atoi(v);
    else if (a == "--tls-cert")
      o.tls_cert = v;
    else if (a == "--tls-key")
      o.tls_key = v;
    else
      return false;
  }
  return o.table.items > 0 && o.table.average_item_bytes > 0 && o.page_bytes > 0 && o.threads > 0 &&
         o.tls_cert.empty() == o.tls_key.empty();
}

// Counters the harness reads from GET /__stats to learn what each client run fetched.
struct Stats {
  std::atomic<uint64_t> scan_requests{0}, scan_pages{0}, scan_items{0}, scan_bytes{0};
  std::atomic<uint64_t> s3_requests{0}, s3_bytes{0}, s3_objects{0}, injected{0}, rejected{0};
  // Multipart uploads started, aborted, and still open (neither completed nor aborted).
  std::atomic<uint64_t> uploads_started{0}, uploads_aborted{0};
  std::atomic<int64_t> uploads_open{0};
  // TLS handshakes completed (one per connection with keep-alive), and how many resumed a session.
  std::atomic<uint64_t> tls_handshakes{0}, tls_resumed{0};
  std::string to_json() const {
    char buf[640];
    std::snprintf(buf, sizeof buf,
                  "{\"scan_requests\":%lu,\"scan_pages\":%lu,\"scan_items\":%lu,\"scan_bytes\":%lu,"
                  "\"s3_requests\":%lu,\"s3_bytes\":%lu,\"s3_objects\":%lu,\"injected_faults\":%lu,"
                  "\"rejected_uploads\":%lu,\"uploads_started\":%lu,\"uploads_aborted\":%lu,"
                  "\"uploads_open\":%ld,\"tls_handshakes\":%lu,\"tls_resumed\":%lu}",
                  (unsigned long)scan_requests, (unsigned long)scan_pages, (unsigned long)scan_items,
                  (unsigned long)scan_bytes, (unsigned long)s3_requests, (unsigned long)s3_bytes,
                  (unsigned long)s3_objects, (unsigned long)injected, (unsigned long)rejected,
                  (unsigned long)uploads_started, (unsigned long)uploads_aborted, (long)uploads_open,
                  (unsigned long)tls_handshakes, (unsigned long)tls_resumed);
    return buf;
  }
};

enum class Fault { kNone, kThrottle, kError, kReset };

// Decides faults from a request counter and the seed, so runs are repeatable without shared RNG state.
class FaultPlan {
 public:
  explicit FaultPlan(const SimOptions& o) : o_(o) {}
  Fault next() {
    if (o_.throttle_rate <= 0 && o_.error_rate <= 0 && o_.reset_rate <= 0) return Fault::kNone;
    uint64_t z = (counter_.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ull ^ o_.table.seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    double u = static_cast<double>((z ^ (z >> 31)) >> 11) / static_cast<double>(1ull << 53);
    if (u < o_.throttle_rate) return Fault::kThrottle;
    if (u < o_.throttle_rate + o_.error_rate) return Fault::kError;
    if (u < o_.throttle_rate + o_.error_rate + o_.reset_rate) return Fault::kReset;
    return Fault::kNone;
  }

 private:
  const SimOptions& o_;
  std::atomic<uint64_t> counter_{0};
};

// Read capacity units consumed and Scan requests throttled, per wall-clock second since the simulator
// started (GET /__capacity), so that a test can check the rate a client kept to.
class CapacityLog {
 public:
  void consumed(double units) {
    at_now([&](size_t i) { units_[i] += units; });
  }
  void throttled() {
    at_now([&](size_t i) { throttled_[i] += 1; });
  }
  // {"start_unix_ms":T,"rcu":[r0,r1,...],"throttled":[t0,t1,...]}: second i is [T + i s, T + i s + 1 s),
  // up to now.
  std::string to_json() {
    at_now([](size_t) {});
    std::lock_guard lock(mutex_);
    const auto start_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(wall_start_.time_since_epoch());
    std::string out = "{\"start_unix_ms\":" + std::to_string(start_ms.count()) + ",\"rcu\":[";
    char buf[32];
    for (size_t i = 0; i < units_.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%.1f", i ? "," : "", units_[i]);
      out += buf;
    }
    out += "],\"throttled\":[";
    for (size_t i = 0; i < throttled_.size(); ++i) out += (i ? "," : "") + std::to_string(throttled_[i]);
    return out + "]}";
  }

 private:
  template <class F>
  void at_now(F&& f) {
    auto second = static_cast<size_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_).count());
    std::lock_guard lock(mutex_);
    if (units_.size() <= second) {
      units_.resize(second + 1, 0.0);
      throttled_.resize(second + 1, 0);
    }
    f(second);
  }
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point wall_start_ = std::chrono::system_clock::now();
  std::mutex mutex_;
  std::vector<double> units_;
  std::vector<uint64_t> throttled_;
};

// DynamoDB's charge for one Scan page: the items' sizes summed, rounded up to 4 KB (at least one read),
// one unit per 4 KB strongly consistent, half that eventually consistent.
double read_units(uint64_t item_bytes, bool consistent) {
  double blocks = std::max<double>(1, std::ceil(static_cast<double>(item_bytes) / 4096));
  return consistent ? blocks : blocks / 2;
}

// A token bucket of read capacity units, one second deep.
class ReadCapacity {
 public:
  explicit ReadCapacity(double per_second) : rate_(per_second), tokens_(per_second) {}
  bool take(double units) {
    if (rate_ <= 0) return true;
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 0) return false;
    tokens_ -= units;  // a page may overdraw, as DynamoDB lets a request finish and charges after
    return true;
  }

 private:
  double rate_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Sends the head of `body` and then drops the connection, like a reset in mid-response.
void drop_halfway(httplib::Response& res, std::string body, const char* content_type) {
  auto shared = std::make_shared<std::string>(std::move(body));
  res.set_content_provider(shared->size(), content_type,
                           [shared](size_t offset, size_t, httplib::DataSink& sink) {
                             if (offset > 0) return false;
                             sink.write(shared->data(), shared->size() / 2);
                             return false;
                           });
}

void add_crc32(httplib::Response& res, const std::string& body) {
  uLong crc = crc32_z(0L, reinterpret_cast<const Bytef*>(body.data()), body.size());
  res.set_header("x-amz-crc32", std::to_string(crc));
}

void dynamodb_error(httplib::Response& res, int status, const std::string& type, const std::string& message) {
  std::string body =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":")" + message + "\"}";
  res.status = status;
  add_crc32(res, body);
  res.set_content(body, "application/x-amz-json-1.0");
}

std::string describe_table(const SyntheticTable& t, const SimOptions& sim) {
  const auto& o = t.options();
  std::string capacity = sim.provisioned_rcu > 0
                             ? R"("BillingModeSummary":{"BillingMode":"PROVISIONED"},)"
                             : R"("BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},)";
  if (sim.on_demand_max_rru > 0)
    capacity += R"("OnDemandThroughput":{"MaxReadRequestUnits":)" + std::to_string(sim.on_demand_max_rru) +
                R"(,"MaxWriteRequestUnits":-1},)";
  if (sim.warm_rcu > 0)
    capacity += R"("WarmThroughput":{"ReadUnitsPerSecond":)" + std::to_string(sim.warm_rcu) +
                R"(,"WriteUnitsPerSecond":4000,"Status":"ACTIVE"},)";
  return R"({"Table":{"TableName":")" + o.name +
         R"(","TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/)" + o.name +
         R"(","TableStatus":"ACTIVE","ItemCount":)" + std::to_string(o.items) +
         ",\"TableSizeBytes\":" + std::to_string(t.size_bytes()) +
         R"(,"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
         R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)" +
         capacity + R"("CreationDateTime":1700000000.0,"ProvisionedThroughput":{"ReadCapacityUnits":)" +
         std::to_string(std::max<int64_t>(0, sim.provisioned_rcu)) +
         R"(,"WriteCapacityUnits":0,"NumberOfDecreasesToday":0}}})";
}

class DynamoDbSide {
 public:
  DynamoDbSide(const SimOptions& o, const SyntheticTable& t, Stats& s, CapacityLog& log)
      : o_(o), table_(t), stats_(s), log_(log), faults_(o), capacity_(o.read_capacity) {}

  void handle(const httplib::Request& req, httplib::Response& res) {
    if (o_.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.latency_ms));
    std::string target = req.get_header_value("X-Amz-Target");
    ScanRequest r;
    if (!parse(req.body, r))
      return dynamodb_error(res, 400, "SerializationException", "malformed request body");
    if (r.table != table_.options().name) {
      return dynamodb_error(res, 400, "ResourceNotFoundException", "Requested resource not found");
    }
    if (target == "DynamoDB_20120810.DescribeTable") {
      std::string body = describe_table(table_, o_);
      add_crc32(res, body);
      return res.set_content(body, "application/x-amz-json-1.0");
    }
    if (target != "DynamoDB_20120810.Scan") {
      return dynamodb_error(res, 400, "UnknownOperationException", "not simulated: " + target);
    }
    scan(r, res);
  }

 private:
  struct ScanRequest {
    std::string table, start_key, return_consumed_capacity;
    int64_t segment = 0, total = 1, limit = INT64_MAX;
    bool consistent = false;
  };

  // One forward pass over the body's fields (on-demand JSON cannot go back to an earlier field).
  static bool parse(const std::string& body, ScanRequest& r) {
    simdjson::padded_string json(body);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    if (parser.iterate(json).get(doc) || doc.get_object().get(object)) return false;
    for (auto field : object) {
      std::string_view key, text;
      simdjson::error_code bad = field.unescaped_key().get(key);
      if (bad) return false;
      if (key == "TableName")
        bad = field.value().get_string().get(text), r.table = text;
      else if (key == "Segment")
        bad = field.value().get_int64().get(r.segment);
      else if (key == "TotalSegments")
        bad = field.value().get_int64().get(r.total);
      else if (key == "Limit")
        bad = field.value().get_int64().get(r.limit);
      else if (key == "ConsistentRead")
        bad = field.value().get_bool().get(r.consistent);
      else if (key == "ReturnConsumedCapacity")
        bad = field.value().get_string().get(text), r.return_consumed_capacity = text;
      else if (key == "ExclusiveStartKey")
        bad = field.value()["pk"]["S"].get_string().get(text), r.start_key = text;
      if (bad) return false;
    }
    return true;
  }

  void scan(const ScanRequest& r, httplib::Response& res) {
    stats_.scan_requests++;
    int64_t segment = r.segment, total = r.total, limit = r.limit;
    const std::string& start_key = r.start_key;
    if (total < 1 || total > 1000000 || segment < 0 || segment >= total || limit < 1) {
      return dynamodb_error(res, 400, "ValidationException", "bad Segment, TotalSegments or Limit");
    }
    auto [begin, end] = table_.segment_range(segment, total);
    uint64_t start = begin;
    if (!start_key.empty()) {
      int64_t index = table_.index_of_key(start_key);
      if (index < 0 || static_cast<uint64_t>(index) < begin || static_cast<uint64_t>(index) >= end) {
        return dynamodb_error(res, 400, "ValidationException", "The provided starting key is invalid");
      }
      start = index + 1;
    }
    Fault f = faults_.next();
    if (f == Fault::kThrottle) return throttle(res);
    if (f == Fault::kError) {
      stats_.injected++;
      return dynamodb_error(res, 500, "InternalServerError", "Internal server error");
    }
    std::string body;
    auto page = table_.page(start, end, static_cast<uint64_t>(limit), o_.page_bytes, body);
    // Charged as ConsumedCapacity reports it; a throttled request reads nothing and costs nothing.
    const double units = read_units(page.item_bytes, r.consistent);
    if (!capacity_.take(units)) return throttle(res);
    log_.consumed(units);
    if (r.return_consumed_capacity == "TOTAL" || r.return_consumed_capacity == "INDEXES") {
      char number[32];
      std::snprintf(number, sizeof number, "%.1f", units);
      body.pop_back();  // the closing '}'
      body +=
          R"(,"ConsumedCapacity":{"TableName":")" + table_.options().name + R"(","CapacityUnits":)" + number;
      if (r.return_consumed_capacity == "INDEXES")
        body += R"(,"Table":{"CapacityUnits":)" + std::string(number) + "}";
      body += "}}";
    }
    stats_.scan_pages++;
    stats_.scan_items += page.count;
    stats_.scan_bytes += body.size();
    add_crc32(res, body);
    if (f == Fault::kReset) {
      stats_.injected++;
      return drop_halfway(res, std::move(body), "application/x-amz-json-1.0");
    }
    res.set_content(std::move(body), "application/x-amz-json-1.0");
  }

  void throttle(httplib::Response& res) {
    stats_.injected++;
    log_.throttled();
    dynamodb_error(res, 400, "ProvisionedThroughputExceededException",
                   "The level of configured provisioned throughput for the table was exceeded.");
  }

  const SimOptions& o_;
  const SyntheticTable& table_;
  Stats& stats_;
  CapacityLog& log_;
  FaultPlan faults_;
  ReadCapacity capacity_;
};

void s3_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
                      message + "</Message><RequestId>sim</RequestId></Error>",
                  "application/xml");
}

std::string base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len);
  return out;
}

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

class S3Side {
 public:
  S3Side(const SimOptions& o, Stats& s) : o_(o), stats_(s), faults_(o) {}

  // GET and HEAD: HeadBucket answers 200, every object is absent, listings are empty.
  void get(const httplib::Request& req, httplib::Response& res) {
    if (!begin(res)) return;
    auto [bucket, key] = split(req.path);
    if (!key.empty()) return s3_error(res, 404, "NoSuchKey", "The specified key does not exist.");
    if (req.method == "HEAD") return;
    res.set_content(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>" + bucket + "</Name><Prefix>" +
            req.get_param_value("prefix") +
            "</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
            "</ListBucketResult>",
        "application/xml");
  }

  // PutObject and UploadPart: read the body as it streams, check its size and Content-MD5.
  void put(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md5(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr);
    uint64_t received = 0;
    reader([&](const char* data, size_t n) {
      EVP_DigestUpdate(md5.get(), data, n);
      received += n;
      return true;
    });
    if (!begin(res)) return;
    stats_.s3_bytes += received;
    unsigned char digest[16];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md5.get(), digest, &len);
    // aws-chunked bodies (botocore's trailing checksums) carry the size in x-amz-decoded-content-length.
    bool chunked = req.get_header_value("Content-Encoding").find("aws-chunked") != std::string::npos;
    std::string declared = req.get_header_value("Content-Length");
    if (!chunked && !declared.empty() && std::strtoull(declared.c_str(), nullptr, 10) != received) {
      stats_.rejected++;
      return s3_error(res, 400, "IncompleteBody", "fewer bytes than Content-Length");
    }
    std::string sent_md5 = req.get_header_value("Content-MD5");
    if (!sent_md5.empty() && sent_md5 != base64(digest, 16)) {
      stats_.rejected++;
      return s3_error(res, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
    if (req.has_param("uploadId")) {
      int part = std::atoi(req.get_param_value("partNumber").c_str());
      std::lock_guard lock(mutex_);
      auto it = uploads_.find(req.get_param_value("uploadId"));
      if (it == uploads_.end())
        return s3_error(res, 404, "NoSuchUpload", "The specified upload does not exist.");
      if (part < 1 || part > 10000) return s3_error(res, 400, "InvalidArgument", "bad partNumber");
      it->second[part] = received;
    } else {
      stats_.s3_objects++;
    }
    res.set_header("ETag", "\"" + hex(digest, 16) + "\"");
  }

  // CreateMultipartUpload and CompleteMultipartUpload.
  void post(const httplib::Request& req, httplib::Response& res) {
    if (!begin(res)) return;
    auto [bucket, key] = split(req.path);
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    if (req.has_param("uploads")) {
      std::string id = "upload-" + std::to_string(next_upload_.fetch_add(1));
      {
        std::lock_guard lock(mutex_);
        uploads_[id];
      }
      stats_.uploads_started++;
      stats_.uploads_open++;
      return res.set_content(xml + "<InitiateMultipartUploadResult><Bucket>" + bucket + "</Bucket><Key>" +
                                 key + "</Key><UploadId>" + id +
                                 "</UploadId></InitiateMultipartUploadResult>",
                             "application/xml");
    }
    if (!req.has_param("uploadId")) return s3_error(res, 400, "InvalidRequest", "not simulated");
    std::map<int, uint64_t> parts;
    {
      std::lock_guard lock(mutex_);
      auto it = uploads_.find(req.get_param_value("uploadId"));
      if (it == uploads_.end())
        return s3_error(res, 404, "NoSuchUpload", "The specified upload does not exist.");
      parts = std::move(it->second);
      uploads_.erase(it);
    }
    stats_.uploads_open--;
    // Every listed part must have arrived, and all but the last must be at least 5 MiB.
    int listed = 0;
    for (size_t at = req.body.find("<PartNumber>"); at != std::string::npos;
         at = req.body.find("<PartNumber>", at + 1)) {
      int number = std::atoi(req.body.c_str() + at + 12);
      auto it = parts.find(number);
      if (it == parts.end()) {
        stats_.rejected++;
        return s3_error(res, 400, "InvalidPart", "One or more of the specified parts could not be found.");
      }
      if (std::next(it) != parts.end() && it->second < (5u << 20)) {
        stats_.rejected++;
        return s3_error(res, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum size.");
      }
      ++listed;
    }
    if (listed == 0 || listed != static_cast<int>(parts.size())) {
      stats_.rejected++;
      return s3_error(res, 400, "InvalidPart", "the parts listed are not the parts uploaded");
    }
    stats_.s3_objects++;
    res.set_content(xml + "<CompleteMultipartUploadResult><Bucket>" + bucket + "</Bucket><Key>" + key +
                        "</Key><ETag>\"sim-" + std::to_string(listed) +
                        "\"</ETag></CompleteMultipartUploadResult>",
                    "application/xml");
  }

  // AbortMultipartUpload and DeleteObject.
  void del(const httplib::Request& req, httplib::Response& res) {
    if (!begin(res)) return;
    if (req.has_param("uploadId")) {
      std::lock_guard lock(mutex_);
      if (uploads_.erase(req.get_param_value("uploadId")) > 0) {
        stats_.uploads_aborted++;
        stats_.uploads_open--;
      }
    }
    res.status = 204;
  }

 private:
  // Latency and injected faults, common to every S3 request; false when the answer is a fault.
  bool begin(httplib::Response& res) {
    stats_.s3_requests++;
    if (o_.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.latency_ms));
    switch (faults_.next()) {
      case Fault::kNone:
        return true;
      case Fault::kThrottle:
        s3_error(res, 503, "SlowDown", "Please reduce your request rate.");
        break;
      case Fault::kError:
        s3_error(res, 500, "InternalError", "We encountered an internal error. Please try again.");
        break;
      case Fault::kReset:
        drop_halfway(res, std::string(256, ' '), "application/xml");
        break;
    }
    stats_.injected++;
    return false;
  }

  static std::pair<std::string, std::string> split(const std::string& path) {
    size_t slash = path.find('/', 1);
    if (slash == std::string::npos) return {path.substr(1), ""};
    return {path.substr(1, slash - 1), path.substr(slash + 1)};
  }

  const SimOptions& o_;
  Stats& stats_;
  FaultPlan faults_;
  std::mutex mutex_;
  std::map<std::string, std::map<int, uint64_t>> uploads_;  // upload id -> part number -> size
  std::atomic<uint64_t> next_upload_{1};
};

Stats* g_stats = nullptr;  // for the OpenSSL info callback, which has no user pointer of its own

void count_handshake(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || g_stats == nullptr) return;
  g_stats->tls_handshakes++;
  if (SSL_session_reused(const_cast<SSL*>(ssl))) g_stats->tls_resumed++;
}

// A plain HTTP server, or an HTTPS one when the options name a certificate and key.
std::unique_ptr<httplib::Server> make_server(const SimOptions& o) {
  if (o.tls_cert.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
  if (!server->is_valid()) return nullptr;
  SSL_CTX_set_info_callback(server->ssl_context(), count_handshake);
  return server;
}

void configure(httplib::Server& server, int threads) {
  server.set_tcp_nodelay(true);                // else Nagle + delayed ACK add ~44 ms to a PUT
  server.set_keep_alive_max_count(100000000);  // default 5 would reconnect every 5 requests
  server.set_keep_alive_timeout(60);
  server.set_read_timeout(60);
  server.set_write_timeout(60);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

int run(int argc, char** argv) {
  SimOptions o;
  if (!parse_args(argc, argv, o)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness or test that started us
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // server threads inherit the mask; main waits

  SyntheticTable table(o.table);
  Stats stats;
  CapacityLog capacity;
  DynamoDbSide dynamodb(o, table, stats, capacity);
  S3Side s3(o, stats);

  g_stats = &stats;
  auto ddb_owner = make_server(o), s3_owner = make_server(o);
  if (!ddb_owner || !s3_owner) {
    std::fprintf(stderr, "ddb2s3-sim: cannot load the TLS certificate %s and key %s\n", o.tls_cert.c_str(),
                 o.tls_key.c_str());
    return 1;
  }
  httplib::Server& ddb_server = *ddb_owner;
  httplib::Server& s3_server = *s3_owner;
  configure(ddb_server, o.threads);
  configure(s3_server, o.threads);
  ddb_server.Post("/",
                  [&](const httplib::Request& req, httplib::Response& res) { dynamodb.handle(req, res); });
  ddb_server.Get("/__stats", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(stats.to_json(), "application/json");
  });
  ddb_server.Get("/__capacity", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(capacity.to_json(), "application/json");
  });
  s3_server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) { s3.get(req, res); });
  s3_server.Put(".*", [&](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& r) { s3.put(req, res, r); });
  s3_server.Post(".*", [&](const httplib::Request& req, httplib::Response& res) { s3.post(req, res); });
  s3_server.Delete(".*", [&](const httplib::Request& req, httplib::Response& res) { s3.del(req, res); });

  int ddb_port = o.dynamodb_port
                     ? (ddb_server.bind_to_port("127.0.0.1", o.dynamodb_port) ? o.dynamodb_port : -1)
                     : ddb_server.bind_to_any_port("127.0.0.1");
  int s3_port = o.s3_port ? (s3_server.bind_to_port("127.0.0.1", o.s3_port) ? o.s3_port : -1)
                          : s3_server.bind_to_any_port("127.0.0.1");
  if (ddb_port <= 0 || s3_port <= 0) {
    std::fprintf(stderr, "ddb2s3-sim: cannot bind the loopback ports\n");
    return 1;
  }
  std::thread ddb_thread([&] { ddb_server.listen_after_bind(); });
  std::thread s3_thread([&] { s3_server.listen_after_bind(); });
  while (!ddb_server.is_running() || !s3_server.is_running()) std::this_thread::yield();
  const char* scheme = o.tls_cert.empty() ? "http" : "https";
  std::printf("ready dynamodb=%s://127.0.0.1:%d s3=%s://127.0.0.1:%d items=%lu table_bytes=%lu\n", scheme,
              ddb_port, scheme, s3_port, (unsigned long)o.table.items, (unsigned long)table.size_bytes());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  ddb_server.stop();
  s3_server.stop();
  ddb_thread.join();
  s3_thread.join();
  std::fprintf(stderr, "ddb2s3-sim: %s\n", stats.to_json().c_str());
  return 0;
}

}  // namespace
}  // namespace ddb2s3::bench

int main(int argc, char** argv) { return ddb2s3::bench::run(argc, argv); }

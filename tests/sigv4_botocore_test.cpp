// Cross-checks the SigV4 signer against botocore's (python3-botocore): the same DynamoDB and S3 requests,
// signed on both sides at the same frozen time, must come out with identical headers, Authorization included.
// S3 keys and query values are encoded the way the S3 client sends them: uri_encode(key, keep_slash=true)
// for the path and uri_encode(value, false) for query values (so '/' in a prefix goes as %2F, as botocore
// itself would send it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

constexpr const char* kInstallHint =
    "/usr/bin/python3 with botocore is required for this test (Debian: python3-botocore); run scripts/install-deps";

struct Case {
  std::string description;
  HttpRequest request;  // before signing
  std::string body;
  Credentials credentials;
  SigningParams params;
};

std::string json_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through
    }
  }
  return out + "\"";
}

std::string to_json(const std::vector<Case>& cases) {
  std::string out = "[";
  for (const Case& c : cases) {
    if (out.size() > 1) out += ",\n";
    out += "{\"method\":" + json_escape(c.request.method) + ",\"url\":" + json_escape(c.request.url) +
           ",\"headers\":[";
    for (size_t i = 0; i < c.request.headers.size(); ++i) {
      if (i > 0) out += ",";
      out += "[" + json_escape(c.request.headers[i].first) + "," + json_escape(c.request.headers[i].second) +
             "]";
    }
    out += "],\"body_base64\":" + json_escape(base64_encode(c.body)) +
           ",\"service\":" + json_escape(c.params.service) + ",\"region\":" + json_escape(c.params.region) +
           ",\"timestamp\":" + json_escape(amz_date(c.params.time)) +
           ",\"access_key\":" + json_escape(c.credentials.access_key_id) +
           ",\"secret_key\":" + json_escape(c.credentials.secret_access_key) +
           ",\"token\":" + json_escape(c.credentials.session_token) + "}";
  }
  return out + "]";
}

// The same form botocore_sign.py prints: "name:value" lines, names lower-cased, sorted.
std::string header_block(const Headers& headers) {
  std::vector<std::string> lines;
  for (const auto& [name, value] : headers) {
    std::string lname = name;
    std::transform(lname.begin(), lname.end(), lname.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    lines.push_back(lname + ":" + value);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  result.status = pclose(pipe);
  return result;
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents)
      : path_(fs::temp_directory_path() / ("ddb2s3-sigv4-botocore-" + std::to_string(getpid()) + "-" +
                                           std::to_string(counter_++) + ".json")) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Signs every case with botocore; one header block per case.
std::vector<std::string> botocore_sign(const std::vector<Case>& cases) {
  TempFile input(to_json(cases));
  const std::string script = ddb2s3::testing::source_dir() + "/tests/support/botocore_sign.py";
  CommandResult r = run("/usr/bin/python3 '" + script + "' < '" + input.path().string() + "' 2>&1");
  EXPECT_EQ(r.status, 0) << "botocore_sign.py failed:\n" << r.output;
  std::vector<std::string> blocks;
  std::string current;
  size_t pos = 0;
  while (pos < r.output.size()) {
    size_t end = r.output.find('\n', pos);
    if (end == std::string::npos) end = r.output.size();
    std::string line = r.output.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      blocks.push_back(current);
      current.clear();
    } else {
      current += line + "\n";
    }
  }
  return blocks;
}

system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

Credentials long_term() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, "test"};
}
Credentials temporary() {
  return {"ASIAEXAMPLE",
          "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
          "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDk+/=AgIgZ2luX2V",
          {},
          "test"};
}

std::vector<Case> dynamodb_cases() {
  struct Endpoint {
    std::string url, region;
  };
  const std::vector<Endpoint> endpoints = {{"https://dynamodb.us-east-1.amazonaws.com/", "us-east-1"},
                                           {"https://dynamodb.eu-west-3.amazonaws.com", "eu-west-3"},
                                           {"http://127.0.0.1:8000/", "us-east-1"}};
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"Scan",
       R"({"TableName":"orders","Limit":100,"ExclusiveStartKey":{"pk":{"S":"caf\u00e9 \u65e5\u672c"}}})"},
      {"DescribeTable", R"({"TableName":"t\u00ebst-table.v2"})"},
      {"ExportTableToPointInTime",
       R"({"TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/orders","S3Bucket":"b","ExportFormat":"DYNAMODB_JSON"})"},
      {"DescribeExport", "{\"ExportArn\":\"arn:aws:dynamodb:us-east-1:1:table/t/export/01\"}\n"}};
  std::vector<Case> cases;
  int n = 0;
  for (const auto& ep : endpoints) {
    for (const auto& [op, body] : calls) {
      Case c;
      c.description = "dynamodb " + op + " " + ep.url;
      c.request.method = "POST";
      c.request.url = ep.url;
      c.request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                           {"X-Amz-Target", "DynamoDB_20120810." + op}};
      if (n % 3 == 1) c.request.headers.emplace_back("User-Agent", "ddb2s3/0.1 (not signed)");
      c.body = body;
      c.credentials = n % 2 == 0 ? long_term() : temporary();
      c.params.region = ep.region;
      c.params.service = "dynamodb";
      c.params.time = at(2024, 2, 29, 23, 59, 59) + std::chrono::hours(n * 5);
      cases.push_back(std::move(c));
      ++n;
    }
  }
  // A non-S3 path that needs normalising and encoding again (SigV4Auth does both).
  Case c;
  c.description = "execute-api path normalisation";
  c.request.method = "GET";
  c.request.url = "https://abc.execute-api.us-west-2.amazonaws.com//stage/./a%20b/../c~d%2Be//?q=%2F&b=x%20y";
  c.credentials = temporary();
  c.params.region = "us-west-2";
  c.params.service = "execute-api";
  c.params.time = at(2015, 8, 30, 12, 36, 0);
  cases.push_back(std::move(c));
  return cases;
}

std::vector<Case> s3_cases() {
  const std::vector<std::string> keys = {
      "plain.json.gz",         "dir/sub dir/file name.json",
      "a+b=c~d%e.txt",         "\xc3\xbcn\xc3\xaf\xc2\xa9\xc3\xb8\x64\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.json",
      "prefix//double//slash", "/leading-slash",
      "!$&'()*,;:@ [] #?.txt", "exports/run-1/data/00000-0007.json.gz"};
  struct Style {
    std::string base;  // up to and including the '/' before the key
    std::string region;
  };
  const std::vector<Style> styles = {{"https://my-bucket.s3.us-east-1.amazonaws.com/", "us-east-1"},
                                     {"http://127.0.0.1:4569/my-bucket/", "us-east-1"},
                                     {"https://s3.eu-west-1.amazonaws.com:443/my.bucket/", "eu-west-1"}};
  const std::string binary_body = std::string("part\0\x01\xff\xfe body \r\n", 17) + std::string(3000, 'z');
  const std::string continuation = uri_encode("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", false);
  struct Request {
    std::string method, query;
    bool body;
    Headers headers;
  };
  const std::vector<Request> requests = {
      {"PUT", "", true, {{"Content-Type", "application/gzip"}, {"x-amz-storage-class", "  STANDARD_IA  "}}},
      {"PUT",
       "",
       true,
       {{"x-amz-server-side-encryption", "aws:kms"},
        {"x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:1:key/abc"},
        {"x-amz-expected-bucket-owner", "123456789012"}}},
      {"GET", "", false, {}},
      {"HEAD", "", false, {}},
      {"DELETE", "", false, {}},
      {"POST", "uploads", false, {{"Content-Type", "application/octet-stream"}}},
      {"PUT", "partNumber=3&uploadId=abc%2Bdef", true, {}},
      {"POST",
       "uploadId=abc%2Bdef",
       true,
       {{"Content-Type", "application/xml"}, {"x-amz-expected-bucket-owner", "123456789012"}}},
      {"DELETE", "uploadId=abc%2Bdef", false, {}},
  };
  std::vector<Case> cases;
  int n = 0;
  for (const auto& style : styles) {
    for (const auto& key : keys) {
      for (const auto& r : requests) {
        Case c;
        c.request.method = r.method;
        c.request.url = style.base + uri_encode(key, true) + (r.query.empty() ? "" : "?" + r.query);
        c.request.headers = r.headers;
        if (r.body) {
          c.body = n % 2 == 0 ? binary_body : "<CompleteMultipartUpload><Part/></CompleteMultipartUpload>";
          c.request.headers.emplace_back("Content-MD5", md5_base64(c.body));
        }
        c.description = "s3 " + r.method + " " + c.request.url;
        c.credentials = n % 3 == 0 ? temporary() : long_term();
        c.params.region = style.region;
        c.params.service = "s3";
        c.params.s3_path = true;
        c.params.content_sha256_header = true;
        c.params.time = at(2026, 1, 1, 0, 0, 0) + std::chrono::minutes(n * 7);
        cases.push_back(std::move(c));
        ++n;
      }
    }
    // Bucket-level calls: ListObjectsV2 (prefix with a space and '/', a continuation token), HeadBucket.
    std::string bucket_url = style.base;
    for (const std::string& query :
         {"list-type=2&prefix=" + uri_encode("a b/", false) + "&continuation-token=" + continuation,
          "list-type=2&prefix=" + uri_encode("\xc3\xa9t\xc3\xa9+~=/", false) + "&max-keys=1000&delimiter=%2F",
          std::string()}) {
      for (bool token : {false, true}) {
        Case c;
        c.request.method = query.empty() ? "HEAD" : "GET";
        c.request.url = bucket_url + (query.empty() ? "" : "?" + query);
        c.description = "s3 " + c.request.method + " " + c.request.url;
        c.credentials = token ? temporary() : long_term();
        c.params.region = style.region;
        c.params.service = "s3";
        c.params.s3_path = true;
        c.params.content_sha256_header = true;
        c.params.time = at(2025, 12, 31, 23, 59, 59);
        cases.push_back(std::move(c));
      }
    }
  }
  return cases;
}

void expect_same_as_botocore(std::vector<Case> cases) {
  ASSERT_EQ(run("/usr/bin/python3 -c 'import botocore.auth' 2>&1").status, 0) << kInstallHint;
  for (Case& c : cases) c.request.body = c.body;
  const std::vector<std::string> expected = botocore_sign(cases);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    HttpRequest signed_request = cases[i].request;
    sign_request(signed_request, cases[i].credentials, cases[i].params);
    EXPECT_EQ(header_block(signed_request.headers), expected[i]) << cases[i].description;
  }
}

TEST(Sigv4Botocore, PythonAndBotocoreAreInstalled) {
  CommandResult r = run("/usr/bin/python3 -c 'import botocore.auth, botocore.awsrequest, botocore.credentials' 2>&1");
  EXPECT_EQ(r.status, 0) << kInstallHint << "\n" << r.output;
}

TEST(Sigv4Botocore, DynamoDbRequestsSignLikeBotocore) {
  std::vector<Case> cases = dynamodb_cases();
  EXPECT_GE(cases.size(), 13u);
  expect_same_as_botocore(std::move(cases));
}

TEST(Sigv4Botocore, S3RequestsSignLikeBotocore) {
  std::vector<Case> cases = s3_cases();
  EXPECT_GE(cases.size(), 200u);
  expect_same_as_botocore(std::move(cases));
}

}  // namespace
}  // namespace ddb2s3

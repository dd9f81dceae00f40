// The SigV4 signer against AWS's published signing test suite (every case folder of
// aws-signing-test-suite/v4), header signing, and the Host header it derives.
//
// How the suite maps onto ddb2s3's signer:
// - request.txt's request-target is taken verbatim as the URL's path and query (https://<Host
// header><target>);
//   the suite's raw bytes (a space, UTF-8) are what the signer must encode, exactly once, like botocore.
// - context.json "normalize" chooses SigningParams::s3_path = !normalize, "sign_body" chooses
//   content_sha256_header.
// - "omit_session_token": true (post-sts-header-after) means the token is added after signing, unsigned: we
//   sign with credentials without the token and then add the X-Amz-Security-Token header, as a caller would.
// - Query signing (query-*.txt: presigned URLs) is not something ddb2s3 does, so those files are not checked.
// Cases skipped with GTEST_SKIP(): none.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/digest.h"
#include "support/files.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;

std::string suite_dir() { return ddb2s3::testing::testdata_dir() + "/aws-signing-test-suite/v4"; }

using testing::read_file;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// A value from context.json, whose keys are unique: a string's contents, or a literal (true, 3600).
std::optional<std::string> json_value(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return std::nullopt;
  at = json.find(':', at);
  at = json.find_first_not_of(" \t\r\n", at + 1);
  if (json[at] == '"') {
    size_t end = json.find('"', at + 1);
    return json.substr(at + 1, end - at - 1);
  }
  size_t end = json.find_first_of(",}\r\n", at);
  return trim(std::string_view(json).substr(at, end - at));
}

std::chrono::system_clock::time_point parse_iso8601(const std::string& s) {  // 2015-08-30T12:36:00Z
  using namespace std::chrono;
  auto num = [&](size_t pos, size_t len) { return std::stoi(s.substr(pos, len)); };
  sys_days day = year{num(0, 4)} / month{static_cast<unsigned>(num(5, 2))} / static_cast<unsigned>(num(8, 2));
  return day + hours{num(11, 2)} + minutes{num(14, 2)} + seconds{num(17, 2)};
}

// A raw HTTP/1.1 request: request line, headers (continuation lines folded into one space), blank line, body.
struct RawRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
};

RawRequest parse_http(const std::string& text) {
  RawRequest raw;
  size_t pos = 0;
  auto next_line = [&]() -> std::optional<std::string> {
    if (pos >= text.size()) return std::nullopt;
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = std::min(end + 1, text.size() + 1);
    return line;
  };
  std::string first = next_line().value_or("");
  size_t sp1 = first.find(' ');
  size_t sp2 = first.rfind(' ');
  raw.method = first.substr(0, sp1);
  raw.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  while (auto line = next_line()) {
    if (line->empty()) break;
    if ((line->front() == ' ' || line->front() == '\t') && !raw.headers.empty()) {
      raw.headers.back().second += " " + trim(*line);
      continue;
    }
    size_t colon = line->find(':');
    raw.headers.emplace_back(line->substr(0, colon), line->substr(colon + 1));
  }
  if (pos < text.size()) raw.body = text.substr(pos);
  return raw;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir(), ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt"))
      names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string authorization_line(const std::string& signed_request) {
  for (const auto& [name, value] : parse_http(signed_request).headers)
    if (name == "Authorization") return value;
  return {};
}

// Header names lower-cased and values trimmed, sorted: the set a signed request carries.
std::vector<std::pair<std::string, std::string>> header_set(const Headers& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lname = name;
    std::transform(lname.begin(), lname.end(), lname.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    out.emplace_back(lname, trim(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Sigv4Suite, HasEveryCase) {
  // The published v4 suite has 38 cases; fewer means the test data is missing or damaged.
  EXPECT_GE(case_names().size(), 38u) << "no AWS signing test suite under " << suite_dir();
}

class Sigv4SuiteCase : public ::testing::TestWithParam<std::string> {};

TEST_P(Sigv4SuiteCase, HeaderSigningMatches) {
  const fs::path dir = fs::path(suite_dir()) / GetParam();
  const std::string context = read_file(dir / "context.json");
  const RawRequest raw = parse_http(read_file(dir / "request.txt"));

  Credentials creds;
  creds.access_key_id = json_value(context, "access_key_id").value_or("");
  creds.secret_access_key = json_value(context, "secret_access_key").value_or("");
  const std::string token = json_value(context, "token").value_or("");
  const bool omit_token = json_value(context, "omit_session_token") == "true";
  if (!omit_token) creds.session_token = token;

  SigningParams params;
  params.region = json_value(context, "region").value_or("");
  params.service = json_value(context, "service").value_or("");
  params.time = parse_iso8601(json_value(context, "timestamp").value_or(""));
  params.s3_path = json_value(context, "normalize") != "true";
  params.content_sha256_header = json_value(context, "sign_body") == "true";

  HttpRequest request;
  request.method = raw.method;
  request.headers = raw.headers;
  request.body = raw.body;
  std::string host;
  for (const auto& [n, v] : raw.headers)
    if (n == "Host") host = trim(v);
  ASSERT_FALSE(host.empty());
  request.url = "https://" + host + raw.target;

  sign_request(request, creds, params);
  if (omit_token) request.headers.emplace_back("X-Amz-Security-Token", token);

  const std::string payload_hash = sha256_hex(raw.body);
  HttpRequest unsigned_view = request;  // what was signed: the token header of omit_session_token came later
  if (omit_token) unsigned_view.headers.pop_back();
  const std::string cr = canonical_request(unsigned_view, params, payload_hash);
  EXPECT_EQ(cr, read_file(dir / "header-canonical-request.txt"));
  const std::string sts = string_to_sign(cr, params);
  EXPECT_EQ(sts, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(signature(sts, creds, params), trim(read_file(dir / "header-signature.txt")));

  const std::string expected_signed = read_file(dir / "header-signed-request.txt");
  EXPECT_EQ(request.header("Authorization"), authorization_line(expected_signed));
  // The signed request carries exactly the expected headers (X-Amz-Date, token, content hash, Authorization).
  EXPECT_EQ(header_set(request.headers), header_set(parse_http(expected_signed).headers));
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuite, Sigv4SuiteCase, ::testing::ValuesIn(case_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// --- the signer's own rules, beyond the suite -----------------------------------------------------------

SigningParams params_for(std::string service, bool s3) {
  SigningParams p;
  p.region = "us-east-1";
  p.service = std::move(service);
  p.time = parse_iso8601("2015-08-30T12:36:00Z");
  p.s3_path = s3;
  p.content_sha256_header = s3;
  return p;
}

std::string canonical_line(const std::string& cr,
                           int index) {  // 0: method, 1: path, 2: query, 3: first header
  std::istringstream in(cr);
  std::string line;
  for (int i = 0; i <= index; ++i) std::getline(in, line);
  return line;
}

TEST(Sigv4, S3PathIsUsedAsSentWithoutNormalisingOrEncodingAgain) {
  HttpRequest r;
  r.url = "https://b.s3.amazonaws.com/a//b/./c/../d%20e%2Bf~g%3Dh%25i";
  EXPECT_EQ(canonical_line(canonical_request(r, params_for("s3", true), "x"), 1),
            "/a//b/./c/../d%20e%2Bf~g%3Dh%25i");
}

TEST(Sigv4, OtherServicesNormaliseThePathAndEncodeItAgain) {
  HttpRequest r;
  r.url = "https://example.amazonaws.com//a/./b/../c%20d//";
  EXPECT_EQ(canonical_line(canonical_request(r, params_for("service", false), "x"), 1), "/a/c%2520d/");
  r.url = "https://example.amazonaws.com";
  EXPECT_EQ(canonical_line(canonical_request(r, params_for("service", false), "x"), 1), "/");
}

TEST(Sigv4, QueryIsDecodedEncodedAgainAndSorted) {
  HttpRequest r;
  r.url = "https://b.s3.amazonaws.com/?uploads";
  EXPECT_EQ(canonical_line(canonical_request(r, params_for("s3", true), "x"), 2), "uploads=");
  // S3 computes the canonical query from decoded values, so a raw '/' or '+' is signed encoded.
  r.url = "https://b.s3.amazonaws.com/?prefix=a%20b/&list-type=2&a=x+y&a=%7e&b=%2b";
  EXPECT_EQ(canonical_line(canonical_request(r, params_for("s3", true), "x"), 2),
            "a=x%2By&a=~&b=%2B&list-type=2&prefix=a%20b%2F");
}

TEST(Sigv4, HostComesFromTheUrlWithoutItsDefaultPort) {
  struct Case {
    const char* url;
    const char* host;
  } cases[] = {{"https://Example.COM:443/", "host:example.com"},
               {"http://example.com:80/", "host:example.com"},
               {"http://127.0.0.1:4569/bucket", "host:127.0.0.1:4569"},
               {"https://example.com:80/", "host:example.com:80"},
               {"http://user:pw@[::1]:8000/", "host:[::1]:8000"}};
  for (const Case& c : cases) {
    HttpRequest r;
    r.url = c.url;
    EXPECT_EQ(canonical_line(canonical_request(r, params_for("s3", true), "x"), 3), c.host) << c.url;
  }
}

TEST(Sigv4, ClientHeadersAreNotSignedAndSigningAgainReplacesTheOldSignature) {
  HttpRequest r;
  r.method = "POST";
  r.url = "https://dynamodb.us-east-1.amazonaws.com/";
  r.body = "{}";
  r.headers = {
      {"User-Agent", "ddb2s3/0.1"}, {"Expect", "100-continue"}, {"X-Amz-Target", "DynamoDB_20120810.Scan"}};
  Credentials creds{"AKID", "SECRET", "TOKEN"};
  SigningParams p = params_for("dynamodb", false);
  sign_request(r, creds, p);
  const std::string first = std::string(r.header("Authorization"));
  EXPECT_NE(first.find("SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target,"), std::string::npos)
      << first;
  const size_t header_count = r.headers.size();
  sign_request(r, creds, p);  // a retry
  EXPECT_EQ(r.header("Authorization"), first);
  EXPECT_EQ(r.headers.size(), header_count);
  p.time += std::chrono::seconds(1);
  sign_request(r, creds, p);
  EXPECT_NE(r.header("Authorization"), first);
  EXPECT_EQ(r.header("X-Amz-Date"), "20150830T123601Z");
}

TEST(Sigv4, GivenContentHashIsThePayloadHash) {
  HttpRequest r;
  r.method = "PUT";
  r.url = "https://b.s3.amazonaws.com/k";
  r.body = "data";
  r.headers = {{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}};
  SigningParams p = params_for("s3", true);
  p.content_sha256_header = false;
  sign_request(r, Credentials{"AKID", "SECRET"}, p);
  const std::string cr = canonical_request(r, p, "UNSIGNED-PAYLOAD");
  const std::string expected = signature(string_to_sign(cr, p), Credentials{"AKID", "SECRET"}, p);
  EXPECT_NE(r.header("Authorization").find("Signature=" + expected), std::string::npos);
}

TEST(Sigv4, SigningIsDeterministicAcrossThreadsAndKeys) {
  // Signatures must not depend on what was signed before or on another thread (no shared state leaks).
  auto sign = [](const std::string& secret, int second) {
    HttpRequest r;
    r.url = "https://example.amazonaws.com/";
    SigningParams p = params_for("service", false);
    p.time += std::chrono::seconds(second);
    sign_request(r, Credentials{"AKID", secret}, p);
    return std::string(r.header("Authorization"));
  };
  std::vector<std::string> expected;
  for (int i = 0; i < 8; ++i) expected.push_back(sign("secret" + std::to_string(i % 3), i * 40000));
  EXPECT_NE(expected[0], expected[1]);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        int i = (round * 7 + t) % 8;
        if (sign("secret" + std::to_string(i % 3), i * 40000) != expected[i]) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(Sigv4, AmzDateFormat) {
  EXPECT_EQ(amz_date(parse_iso8601("2015-08-30T12:36:00Z")), "20150830T123600Z");
  EXPECT_EQ(amz_date(parse_iso8601("2024-02-29T23:59:59Z") + std::chrono::milliseconds(999)),
            "20240229T235959Z");
  EXPECT_EQ(amz_date(parse_iso8601("1999-01-01T00:00:00Z")), "19990101T000000Z");
}

TEST(Sigv4, HostHeaderIsTheLowerCasedHostWithoutTheDefaultPort) {
  EXPECT_EQ(host_header("https://Dynamodb.US-East-1.amazonaws.com/"), "dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(host_header("https://example.com:443/x"), "example.com");
  EXPECT_EQ(host_header("http://example.com:80/x"), "example.com");
  EXPECT_EQ(host_header("HTTP://example.com:80"), "example.com");
  EXPECT_EQ(host_header("http://example.com:443/x"), "example.com:443");
  EXPECT_EQ(host_header("https://example.com:80/x"), "example.com:80");
  EXPECT_EQ(host_header("http://127.0.0.1:4569/b1?uploads"), "127.0.0.1:4569");
  EXPECT_EQ(host_header("http://[FD00:EC2::254]:8080/"), "[fd00:ec2::254]:8080");
  EXPECT_EQ(host_header("https://user@bucket.s3.amazonaws.com#frag"), "bucket.s3.amazonaws.com");
  // The header the signer adds is the same.
  HttpRequest r;
  r.url = "http://LocalHost:8000/";
  SigningParams p;
  p.region = "us-east-1";
  p.service = "dynamodb";
  p.time = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  sign_request(r, Credentials{"AKID", "secret"}, p);
  EXPECT_NE(std::string(r.header("Authorization")).find("SignedHeaders=host;x-amz-date"), std::string::npos);
  EXPECT_NE(canonical_request(r, p, "").find("\nhost:" + host_header(r.url) + "\n"), std::string::npos);
}

}  // namespace
}  // namespace ddb2s3

// AWS Signature Version 4 (header signing), checked against AWS's published test suite and botocore.
#include "aws/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/encoding.h"
#include "base/strings.h"
#include "base/time.h"
#include "base/url.h"

namespace ddb2s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

using Digest = Sha256::Digest;

std::string_view as_view(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string host_header(const UrlParts& url) {
  std::string host = to_lower(url.host);
  if (!url.port.empty()) {
    bool default_port = (iequals(url.scheme, "http") && url.port == "80") ||
                        (iequals(url.scheme, "https") && url.port == "443");
    if (!default_port) {
      host.push_back(':');
      host.append(url.port);
    }
  }
  return host;
}

// Non-S3 services: dot segments and empty segments removed (RFC 3986 5.2.4 plus AWS's slash collapsing),
// then the whole path encoded again.
void append_normalized_path(std::string& out, std::string_view path) {
  if (path.empty()) {
    out.push_back('/');
    return;
  }
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  if (path.front() == '/') out.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    append_uri_encoded(out, segments[i], false);
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
}

// S3: the path as sent (already encoded once); only bytes that cannot appear raw in a URL are encoded.
void append_s3_path(std::string& out, std::string_view path) {
  if (path.empty()) {
    out.push_back('/');
    return;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 && hex_value(path[i + 2]) >= 0) {
      out.append(path.substr(i, 3));
      i += 2;
    } else {
      append_uri_encoded(out, path.substr(i, 1), /*keep_slash=*/true);
    }
  }
}

// Query pairs decoded and encoded again the SigV4 way, sorted by encoded name, then value.
void append_canonical_query(std::string& out, std::string_view query) {
  if (query.empty()) return;
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::string enc_name, enc_value;
    append_uri_encoded(enc_name, percent_decode(name), false);
    append_uri_encoded(enc_value, percent_decode(value), false);
    pairs.emplace_back(std::move(enc_name), std::move(enc_value));
  }
  std::sort(pairs.begin(), pairs.end());
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(pairs[i].first);
    out.push_back('=');
    out.append(pairs[i].second);
  }
}

// Trims and turns runs of white space into one space.
void append_trimmed(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool any = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    any = true;
    out.push_back(c);
  }
}

// Headers that clients and proxies add or change on the way, so signing them breaks requests (botocore's
// list), and the Authorization header of an earlier signing.
bool never_signed(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id";
}

struct CanonicalParts {
  std::string request;
  std::string signed_headers;
};

CanonicalParts build_canonical(const HttpRequest& request, const SigningParams& params,
                               std::string_view payload_hash) {
  UrlParts url = split_url(request.url);

  struct Entry {
    std::string name;
    std::string_view value;
  };
  std::vector<Entry> headers;
  headers.reserve(request.headers.size() + 1);
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    std::string lname = to_lower(trim(name));
    if (never_signed(lname)) continue;
    if (lname == "host") has_host = true;
    headers.push_back({std::move(lname), value});
  }
  std::string host;
  if (!has_host) {
    host = host_header(url);
    headers.push_back({"host", host});
  }
  // Stable: values of a repeated header keep the order they were given in.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const Entry& a, const Entry& b) { return a.name < b.name; });

  CanonicalParts parts;
  std::string& cr = parts.request;
  cr.reserve(256 + request.url.size() * 2 + request.headers.size() * 64);
  cr.append(request.method);
  cr.push_back('\n');
  if (params.s3_path) {
    append_s3_path(cr, url.path);
  } else {
    append_normalized_path(cr, url.path);
  }
  cr.push_back('\n');
  append_canonical_query(cr, url.query);
  cr.push_back('\n');
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].name == headers[i - 1].name) {
      cr.push_back(',');
    } else {
      if (i > 0) {
        cr.push_back('\n');
        parts.signed_headers.push_back(';');
      }
      cr.append(headers[i].name);
      cr.push_back(':');
      parts.signed_headers.append(headers[i].name);
    }
    append_trimmed(cr, headers[i].value);
  }
  cr.append("\n\n");
  cr.append(parts.signed_headers);
  cr.push_back('\n');
  cr.append(payload_hash);
  return parts;
}

std::string credential_scope(std::string_view date, const SigningParams& params) {
  std::string scope;
  scope.reserve(date.size() + params.region.size() + params.service.size() + 16);
  scope.append(date);
  scope.push_back('/');
  scope.append(params.region);
  scope.push_back('/');
  scope.append(params.service);
  scope.append("/aws4_request");
  return scope;
}

std::string hex(const Digest& d) { return hex_encode(d.data(), d.size()); }

std::string make_string_to_sign(Sha256& sha, std::string_view canonical_request, std::string_view date_time,
                                const SigningParams& params) {
  std::string sts;
  sts.reserve(kAlgorithm.size() + 128);
  sts.append(kAlgorithm);
  sts.push_back('\n');
  sts.append(date_time);
  sts.push_back('\n');
  sts.append(credential_scope(date_time.substr(0, 8), params));
  sts.push_back('\n');
  sts.append(hex(sha.digest(canonical_request)));
  return sts;
}

// Derived anew for every request: 4 HMACs (about a microsecond) buy a signer without shared state.
std::string make_signature(Sha256& sha, std::string_view string_to_sign, std::string_view secret,
                           std::string_view date, const SigningParams& params) {
  std::string k_secret;
  k_secret.reserve(secret.size() + 4);
  k_secret.append("AWS4");
  k_secret.append(secret);
  Digest key = sha.hmac(k_secret, date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  key = sha.hmac(as_view(key), params.region);
  key = sha.hmac(as_view(key), params.service);
  key = sha.hmac(as_view(key), "aws4_request");
  Digest sig = sha.hmac(as_view(key), string_to_sign);
  OPENSSL_cleanse(key.data(), key.size());
  return hex(sig);
}

void erase_header(Headers& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& h) { return iequals(h.first, name); });
}

}  // namespace

std::string host_header(std::string_view url) { return host_header(split_url(url)); }

std::string amz_date(std::chrono::system_clock::time_point time) {
  return format_iso8601_basic(std::chrono::floor<std::chrono::seconds>(time));
}

std::string canonical_request(const HttpRequest& request, const SigningParams& params,
                              std::string_view payload_hash) {
  return build_canonical(request, params, payload_hash).request;
}

std::string string_to_sign(std::string_view canonical_request, const SigningParams& params) {
  Sha256 sha;
  return make_string_to_sign(sha, canonical_request, amz_date(params.time), params);
}

std::string signature(std::string_view string_to_sign, const Credentials& credentials,
                      const SigningParams& params) {
  Sha256 sha;
  return make_signature(sha, string_to_sign, credentials.secret_access_key,
                        amz_date(params.time).substr(0, 8), params);
}

void sign_request(HttpRequest& request, const Credentials& credentials, const SigningParams& params) {
  std::string date_time = amz_date(params.time);
  erase_header(request.headers, "Authorization");
  request.set_header("X-Amz-Date", date_time);
  if (!credentials.session_token.empty()) {
    request.set_header("X-Amz-Security-Token", credentials.session_token);
  }
  Sha256 sha;
  std::string payload_hash;
  if (params.content_sha256_header) {
    payload_hash = hex(sha.digest(request.body));
    request.set_header("X-Amz-Content-Sha256", payload_hash);
  } else if (std::string_view given = request.header("X-Amz-Content-Sha256"); !given.empty()) {
    payload_hash = given;
  } else {
    payload_hash = hex(sha.digest(request.body));
  }

  CanonicalParts canonical = build_canonical(request, params, payload_hash);
  std::string sts = make_string_to_sign(sha, canonical.request, date_time, params);
  std::string sig = make_signature(sha, sts, credentials.secret_access_key,
                                   std::string_view(date_time).substr(0, 8), params);

  std::string auth;
  auth.reserve(256);
  auth.append(kAlgorithm);
  auth.append(" Credential=");
  auth.append(credentials.access_key_id);
  auth.push_back('/');
  auth.append(credential_scope(std::string_view(date_time).substr(0, 8), params));
  auth.append(", SignedHeaders=");
  auth.append(canonical.signed_headers);
  auth.append(", Signature=");
  auth.append(sig);
  request.headers.emplace_back("Authorization", std::move(auth));
}

}  // namespace ddb2s3

#include "s3/s3.h"

#include <algorithm>
#include <charconv>
#include <pugixml.hpp>
#include <utility>

#include "aws/config.h"
#include "base/encoding.h"
#include "base/strings.h"
#include "base/url.h"

namespace ddb2s3 {
namespace {

constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// scheme://host[:port] with the endpoint's scheme (https when it names none) and port, and another host.
std::string origin_with_host(const UrlParts& endpoint, std::string_view host) {
  std::string out(endpoint.scheme.empty() ? "https" : endpoint.scheme);
  out += "://";
  out += host;
  if (!endpoint.port.empty()) {
    out += ':';
    out += endpoint.port;
  }
  return out;
}

// A bucket name usable as a DNS label in a TLS wildcard certificate: no dots, lower case.
bool virtual_host_compatible(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return bucket.front() != '-' && bucket.back() != '-';
}

std::string default_endpoint(std::string_view region) {
  std::string host = "https://s3." + std::string(region) + ".amazonaws.com";
  if (region.starts_with("cn-")) host += ".cn";
  return host;
}

std::string object_resource(std::string_view bucket, std::string_view key) {
  std::string r = "s3://" + std::string(bucket);
  if (!key.empty()) r += "/" + std::string(key);
  return r;
}

bool parse_xml(pugi::xml_document& doc, const std::string& body) {
  return doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
}

Error bad_answer(std::string_view operation, std::string resource, std::string what) {
  Error e = Error::internal("unexpected answer from S3: " + what);
  return std::move(e).with_context(std::string(operation), std::move(resource));
}

// A hint for the errors a user can fix.
void add_hint(Error& e, std::string_view bucket) {
  if (!e.hint.empty()) return;
  const std::string b(bucket);
  if (e.code == "NoSuchBucket") {
    e.hint =
        "Check the bucket name '" + b + "', and that the endpoint and credentials are those of its account";
  } else if (e.code == "InvalidAccessKeyId") {
    e.hint =
        "Check the destination's credentials (profile, AWS_ACCESS_KEY_ID): S3 does not know this access key";
  } else if (e.code == "SignatureDoesNotMatch") {
    e.hint = "Check the destination's secret access key";
  } else if (e.code == "AccessDenied") {
    e.hint = "Check that the credentials' policy allows this call on bucket '" + b +
             "' (and its KMS key, when SSE-KMS is used)";
  } else if (e.code == "ExpiredToken" || e.code == "InvalidToken") {
    e.hint = "Refresh the session credentials";
  }
}

Headers options_headers_without_md5(const ObjectOptions& options) {
  Headers h;
  for (const auto& [n, v] : options.headers)
    if (!iequals(n, "Content-MD5")) h.emplace_back(n, v);
  return h;
}

// S3 wants the SSE-C key, request payer and bucket owner on every request of an upload.
Headers per_request_headers(const ObjectOptions& options) {
  Headers h;
  for (const auto& [n, v] : options.headers) {
    if (istarts_with(n, "x-amz-server-side-encryption-customer-") || iequals(n, "x-amz-request-payer") ||
        iequals(n, "x-amz-expected-bucket-owner"))
      h.emplace_back(n, v);
  }
  return h;
}

}  // namespace

std::string multipart_etag(std::string_view part_md5s) {
  auto md5 = Md5::make();
  if (!md5) return {};
  md5->update(part_md5s);
  return md5->hex_digest() + "-" + std::to_string(part_md5s.size() / 16);
}

// ---- ObjectOptions ----------------------------------------------------------------------------

ObjectOptions& ObjectOptions::set(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (iequals(n, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view ObjectOptions::get(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

Status check_object_header(std::string_view name, std::string_view value) {
  constexpr std::string_view kMeta = "x-amz-meta-";
  const bool metadata = istarts_with(name, kMeta);
  if (!is_header_name(name) || (metadata && name.size() == kMeta.size()))
    return Error::usage("'" + escape_controls(name, 100) +
                        "' cannot be a header name: only letters, digits and !#$%&'*+-.^_`|~ may be in one");
  if (!is_header_value(value)) {
    std::string message = "the value of header " + std::string(name);
    if (!is_secret_header(name)) message += " '" + escape_controls(value, 100) + "'";
    return Error::usage(message + " holds a CR, LF or another control character");
  }
  return {};
}

Status ObjectOptions::check() const {
  size_t metadata_bytes = 0;
  for (const auto& [name, value] : headers) {
    DDB2S3_RETURN_IF_ERROR(check_object_header(name, value));
    if (istarts_with(name, "x-amz-meta-")) metadata_bytes += name.size() - 11 + value.size();
  }
  if (metadata_bytes > kMaxUserMetadataBytes)
    return Error::usage("the user metadata is " + std::to_string(metadata_bytes) +
                        " bytes; S3 takes at most " + std::to_string(kMaxUserMetadataBytes));
  return {};
}

// ---- URLs -------------------------------------------------------------------------------------

bool is_aws_s3_endpoint(std::string_view endpoint) {
  std::string_view host = split_url(endpoint).host;
  bool aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
  return aws && host.starts_with("s3");
}

std::string s3_endpoint_for_region(std::string_view endpoint, std::string_view region) {
  if (endpoint.empty()) return default_endpoint(region);
  if (!is_aws_s3_endpoint(endpoint)) return std::string(endpoint);
  const UrlParts p = split_url(endpoint);
  std::string_view host = p.host;
  std::vector<std::string_view> labels;
  for (size_t start = 0; start <= host.size();) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    labels.push_back(host.substr(start, dot - start));
    start = dot + 1;
  }
  // s3 | s3-fips | s3-<legacy region> ; then maybe "dualstack"; the region; then amazonaws.com[.cn].
  std::string first(labels.front());
  if (first.starts_with("s3-") && first != "s3-fips") first = "s3";
  bool dualstack = std::find(labels.begin(), labels.end(), "dualstack") != labels.end();
  std::string regional = first + (dualstack ? ".dualstack." : ".") + std::string(region) + ".amazonaws.com";
  if (region.starts_with("cn-")) regional += ".cn";
  return origin_with_host(p, regional);
}

std::string s3_object_url(const ServiceConfig& config, std::string_view bucket, std::string_view key) {
  std::string endpoint = config.endpoint.empty() ? default_endpoint(config.region) : config.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::string encoded_key = uri_encode(key, /*keep_slash=*/true);
  bool path_style = config.s3_path_style || !is_aws_s3_endpoint(endpoint) || !virtual_host_compatible(bucket);
  if (path_style) {
    std::string url = endpoint + "/" + uri_encode(bucket, false);
    if (!key.empty()) url += "/" + encoded_key;
    return url;
  }
  const UrlParts p = split_url(endpoint);
  return origin_with_host(p, std::string(bucket) + "." + std::string(p.host)) + "/" + encoded_key;
}

// ---- BucketRegionCache ------------------------------------------------------------------------

std::optional<std::string> BucketRegionCache::get(std::string_view bucket) const {
  std::lock_guard lock(mu_);
  if (auto it = regions_.find(bucket); it != regions_.end()) return it->second;
  return std::nullopt;
}

void BucketRegionCache::put(std::string_view bucket, std::string region) {
  std::lock_guard lock(mu_);
  regions_.insert_or_assign(std::string(bucket), std::move(region));
}

// ---- S3Client ---------------------------------------------------------------------------------

struct S3Client::Request {
  std::string method;
  std::string key;                                         // empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;  // not encoded
  Headers headers;
  std::string_view body;
  bool owner_check = true;  // CreateBucket has no bucket owner to check yet
};

S3Client::S3Client(std::shared_ptr<const ServiceConfig> config, S3ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  if (!options_.region_cache) options_.region_cache = std::make_shared<BucketRegionCache>();
  clients_.emplace(config_->region, std::make_unique<AwsClient>(config_));
}

S3Client::~S3Client() = default;
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;

std::string S3Client::bucket_region(std::string_view bucket) const {
  if (auto r = options_.region_cache->get(bucket)) return *r;
  return config_->region;
}

AwsClient& S3Client::client_for(const std::string& region) {
  if (auto it = clients_.find(region); it != clients_.end()) return *it->second;
  auto regional = std::make_shared<ServiceConfig>(*config_);
  regional->region = region;
  regional->endpoint = s3_endpoint_for_region(config_->endpoint, region);
  auto [it, inserted] = clients_.emplace(region, std::make_unique<AwsClient>(std::move(regional)));
  return *it->second;
}

Status S3Client::send_once(std::string_view bucket, const std::string& region, Request& request,
                           HttpResponse& response, const CallInfo& info) {
  AwsClient& client = client_for(region);
  HttpRequest http;
  http.method = request.method;
  http.url = s3_object_url(client.config(), bucket, request.key);
  for (size_t i = 0; i < request.query.size(); ++i) {
    const auto& [name, value] = request.query[i];
    http.url += (i == 0 ? '?' : '&');
    http.url += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  http.headers = request.headers;
  if (request.owner_check && !options_.expected_bucket_owner.empty() &&
      http.header("x-amz-expected-bucket-owner").empty())
    http.headers.emplace_back("x-amz-expected-bucket-owner", options_.expected_bucket_owner);
  http.body = request.body;
  return client.send(http, response, info);
}

std::optional<std::string> S3Client::redirect_region(std::string_view bucket, const std::string& region,
                                                     const HttpResponse& response, const Error& error) {
  const int status = error.http_status;
  const bool redirect = status == 301 || status == 302 || status == 307 ||
                        error.code == "PermanentRedirect" || error.code == "AuthorizationHeaderMalformed" ||
                        error.code == "IllegalLocationConstraintException";
  std::string found(response.header("x-amz-bucket-region"));
  if (!redirect && !(status == 400 && !found.empty())) return std::nullopt;
  if (found.empty() && !response.body.empty()) {
    pugi::xml_document doc;
    if (parse_xml(doc, response.body)) found = doc.child("Error").child_value("Region");
  }
  if (found.empty() && status == 301) {
    // A HEAD of the bucket answers with the region in a header, as botocore finds it.
    Request head{.method = "HEAD"};
    HttpResponse head_response;
    CallInfo head_info{.operation = "HeadBucket", .resource = object_resource(bucket, {})};
    (void)send_once(bucket, region, head, head_response, head_info);
    found = std::string(head_response.header("x-amz-bucket-region"));
  }
  if (found.empty() || found == region) return std::nullopt;
  return found;
}

Status S3Client::send(std::string_view bucket, Request& request, HttpResponse& response,
                      const CallInfo& info) {
  const std::string region = bucket_region(bucket);
  Status s = send_once(bucket, region, request, response, info);
  if (!s.ok()) {
    if (auto moved = redirect_region(bucket, region, response, s.error())) {
      // The region goes into the host name and the signature: one that is not a region name is a bad
      // answer, neither followed nor remembered.
      if (!is_region_name(*moved)) {
        Error e =
            Error::make(ErrorKind::kInternal, "InvalidRedirectRegion",
                        "S3 redirected bucket '" + std::string(bucket) + "' to region '" +
                            escape_controls(*moved, 64) + "', which is not a region name; not followed");
        e.http_status = s.error().http_status;
        e.request_id = s.error().request_id;
        return std::move(e).with_context(std::string(info.operation), info.resource);
      }
      options_.region_cache->put(bucket, *moved);
      s = send_once(bucket, *moved, request, response, info);
    }
  }
  if (s.ok()) return s;
  Error e = std::move(s).error();
  std::move(e).with_context(std::string(info.operation), info.resource);
  if (e.http_status == 301 && e.hint.empty())
    e.hint = "Bucket '" + std::string(bucket) + "' is in another region than " + region +
             " and S3 did not say which; set the destination's region";
  add_hint(e, bucket);
  return e;
}

Status S3Client::head_bucket(std::string_view bucket) {
  Request r{.method = "HEAD"};
  CallInfo info{.operation = "HeadBucket", .resource = object_resource(bucket, {})};
  Status s = send(bucket, r, response_, info);
  if (s.ok()) return s;
  Error e = std::move(s).error();
  const std::string b(bucket);
  if (e.http_status == 403) {
    // A HEAD has no body, so S3 cannot say why; a one-key listing (a GET) gets the real code, e.g.
    // InvalidAccessKeyId or SignatureDoesNotMatch, which tells the user what to fix.
    auto probe = list_objects_page(bucket, {}, {}, 1);
    if (!probe.ok() && probe.error().http_status == 403 && !probe.error().code.empty() &&
        probe.error().code != "Forbidden") {
      Error detailed = std::move(probe).error();
      if (detailed.hint.empty())
        detailed.hint = "Check the destination's credentials, and that they may write to bucket '" + b + "'";
      return detailed;
    }
    e.code = "AccessDenied";
    e.message = "access to bucket '" + b + "' was denied, or the credentials are wrong";
    e.hint = "Check the destination's credentials, that they allow s3:ListBucket on '" + b +
             "', and the expected bucket owner when one is set";
  } else if (e.http_status == 404) {
    e.code = "NoSuchBucket";
    e.message = "bucket '" + b + "' does not exist";
    e.hint = "Check the bucket name, and that the endpoint and region are those of the bucket";
  }
  return e;
}

Status S3Client::create_bucket(std::string_view bucket) {
  const std::string region = bucket_region(bucket);
  std::string body;
  Request r{.method = "PUT", .owner_check = false};
  if (region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"" + std::string(kS3Namespace) + "\"><LocationConstraint>" +
           xml_escape(region) + "</LocationConstraint></CreateBucketConfiguration>";
    r.body = body;
  }
  CallInfo info{.operation = "CreateBucket", .resource = object_resource(bucket, {})};
  return send(bucket, r, response_, info);
}

Status S3Client::delete_bucket(std::string_view bucket) {
  Request r{.method = "DELETE"};
  CallInfo info{.operation = "DeleteBucket", .resource = object_resource(bucket, {})};
  return send(bucket, r, response_, info);
}

Result<std::string> S3Client::put_object(std::string_view bucket, std::string_view key, std::string_view body,
                                         const ObjectOptions& options) {
  CallInfo info{.operation = "PutObject", .resource = object_resource(bucket, key)};
  if (Status c = options.check(); !c)
    return std::move(c).error().with_context(std::string(info.operation), info.resource);
  Request r{.method = "PUT", .key = std::string(key), .headers = options.headers, .body = body};
  if (options.compute_content_md5 && options.get("Content-MD5").empty())
    r.headers.emplace_back("Content-MD5", content_md5(body));
  DDB2S3_RETURN_IF_ERROR(send(bucket, r, response_, info));
  return unquote(response_.header("etag"));
}

Result<std::string> S3Client::create_multipart_upload(std::string_view bucket, std::string_view key,
                                                      const ObjectOptions& options) {
  if (Status c = options.check(); !c)
    return std::move(c).error().with_context("CreateMultipartUpload", object_resource(bucket, key));
  Request r{.method = "POST",
            .key = std::string(key),
            .query = {{"uploads", ""}},
            .headers = options_headers_without_md5(options)};
  CallInfo info{.operation = "CreateMultipartUpload", .resource = object_resource(bucket, key)};
  DDB2S3_RETURN_IF_ERROR(send(bucket, r, response_, info));
  pugi::xml_document doc;
  std::string upload_id;
  if (parse_xml(doc, response_.body))
    upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty()) return bad_answer(info.operation, info.resource, "no UploadId in the answer");
  return upload_id;
}

Result<std::string> S3Client::upload_part(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id, int part_number, std::string_view body,
                                          std::string_view md5, const ObjectOptions& options) {
  CallInfo info{.operation = "UploadPart", .resource = object_resource(bucket, key)};
  if (part_number < 1 || part_number > 10000)
    return std::move(Error::usage("part number " + std::to_string(part_number) + " is outside 1..10000"))
        .with_context(std::string(info.operation), info.resource);
  Request r{.method = "PUT",
            .key = std::string(key),
            .query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}},
            .headers = per_request_headers(options),
            .body = body};
  r.headers.emplace_back("Content-MD5", md5.empty() ? content_md5(body) : std::string(md5));
  DDB2S3_RETURN_IF_ERROR(send(bucket, r, response_, info));
  std::string etag = unquote(response_.header("etag"));
  if (etag.empty())
    return bad_answer(info.operation, info.resource, "no ETag for part " + std::to_string(part_number));
  return etag;
}

Result<std::string> S3Client::complete_multipart_upload(std::string_view bucket, std::string_view key,
                                                        std::string_view upload_id,
                                                        const std::vector<CompletedPart>& parts) {
  std::string body = "<CompleteMultipartUpload xmlns=\"" + std::string(kS3Namespace) + "\">";
  for (const CompletedPart& p : parts) {
    body += "<Part><ETag>&quot;" + xml_escape(unquote(p.etag)) + "&quot;</ETag><PartNumber>" +
            std::to_string(p.part_number) + "</PartNumber></Part>";
  }
  body += "</CompleteMultipartUpload>";
  Request r{.method = "POST",
            .key = std::string(key),
            .query = {{"uploadId", std::string(upload_id)}},
            .body = body};
  CallInfo info{.operation = "CompleteMultipartUpload", .resource = object_resource(bucket, key)};
  // S3 may answer 200 and report a failure of the assembly in the body.
  info.check = [operation = info.operation,
                resource = info.resource](const HttpResponse& resp) -> std::optional<Error> {
    pugi::xml_document doc;
    if (!parse_xml(doc, resp.body) || !doc.child("Error")) return std::nullopt;
    return error_from_response(resp, CallInfo{.operation = operation, .resource = resource});
  };
  DDB2S3_RETURN_IF_ERROR(send(bucket, r, response_, info));
  pugi::xml_document doc;
  std::string etag;
  if (parse_xml(doc, response_.body)) etag = doc.child("CompleteMultipartUploadResult").child_value("ETag");
  if (etag.empty()) return bad_answer(info.operation, info.resource, "no ETag in the answer");
  return unquote(etag);
}

Status S3Client::abort_multipart_upload(std::string_view bucket, std::string_view key,
                                        std::string_view upload_id) {
  Request r{.method = "DELETE", .key = std::string(key), .query = {{"uploadId", std::string(upload_id)}}};
  CallInfo info{
      .operation = "AbortMultipartUpload", .resource = object_resource(bucket, key), .cleanup = true};
  Status s = send(bucket, r, response_, info);
  if (!s.ok() && s.error().code == "NoSuchUpload") return {};
  return s;
}

Result<std::optional<ObjectSummary>> S3Client::head_object(std::string_view bucket, std::string_view key,
                                                           const ObjectOptions& options) {
  Request r{.method = "HEAD", .key = std::string(key), .headers = per_request_headers(options)};
  CallInfo info{.operation = "HeadObject", .resource = object_resource(bucket, key)};
  Status s = send(bucket, r, response_, info);
  if (!s.ok()) {
    if (s.error().http_status == 404) return std::optional<ObjectSummary>();
    return std::move(s).error();
  }
  ObjectSummary o;
  o.key = std::string(key);
  o.etag = unquote(response_.header("etag"));
  std::string_view length = response_.header("content-length");
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), o.size);
  if (length.empty() || ec != std::errc() || end != length.data() + length.size())
    return bad_answer(info.operation, info.resource,
                      "the Content-Length '" + escape_controls(length, 40) + "' is not a number");
  return std::optional<ObjectSummary>(std::move(o));
}

Status S3Client::get_object(std::string_view bucket, std::string_view key, std::string& out,
                            std::optional<ByteRange> range) {
  Request r{.method = "GET", .key = std::string(key)};
  if (range) {
    std::string value = "bytes=" + std::to_string(range->first) + "-";
    if (range->last) value += std::to_string(*range->last);
    r.headers.emplace_back("Range", std::move(value));
  }
  CallInfo info{.operation = "GetObject", .resource = object_resource(bucket, key)};
  HttpResponse response;
  response.body.swap(out);  // the caller's buffer receives the body directly
  response.body.clear();
  Status s = send(bucket, r, response, info);
  out.swap(response.body);
  if (!s.ok()) out.clear();
  return s;
}

Result<std::optional<ObjectSummary>> S3Client::get_object_if_exists(std::string_view bucket,
                                                                    std::string_view key, std::string& out) {
  Request r{.method = "GET", .key = std::string(key)};
  CallInfo info{.operation = "GetObject", .resource = object_resource(bucket, key)};
  HttpResponse response;
  response.body.swap(out);
  response.body.clear();
  Status s = send(bucket, r, response, info);
  out.swap(response.body);
  if (!s.ok()) {
    out.clear();
    if (s.error().http_status == 404 && s.error().code != "NoSuchBucket")
      return std::optional<ObjectSummary>();
    return std::move(s).error();
  }
  ObjectSummary o;
  o.key = std::string(key);
  o.size = out.size();
  o.etag = unquote(response.header("etag"));
  return std::optional<ObjectSummary>(std::move(o));
}

Status S3Client::delete_object(std::string_view bucket, std::string_view key) {
  Request r{.method = "DELETE", .key = std::string(key)};
  CallInfo info{.operation = "DeleteObject", .resource = object_resource(bucket, key)};
  return send(bucket, r, response_, info);
}

Result<ListPage> S3Client::list_objects_page(std::string_view bucket, std::string_view prefix,
                                             std::string_view continuation_token, int max_keys) {
  CallInfo info{.operation = "ListObjectsV2", .resource = object_resource(bucket, prefix)};
  if (max_keys < 1 || max_keys > 1000)
    return std::move(Error::usage("max-keys " + std::to_string(max_keys) + " is outside 1..1000"))
        .with_context(std::string(info.operation), info.resource);
  // encoding-type=url: keys may hold characters that XML 1.0 cannot carry.
  Request r{.method = "GET",
            .query = {{"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(max_keys)}}};
  if (!prefix.empty()) r.query.emplace_back("prefix", std::string(prefix));
  if (!continuation_token.empty())
    r.query.emplace_back("continuation-token", std::string(continuation_token));
  DDB2S3_RETURN_IF_ERROR(send(bucket, r, response_, info));

  pugi::xml_document doc;
  if (!parse_xml(doc, response_.body))
    return bad_answer(info.operation, info.resource, "the XML does not parse");
  pugi::xml_node result = doc.child("ListBucketResult");
  if (!result) return bad_answer(info.operation, info.resource, "no ListBucketResult");
  // Servers that ignore encoding-type (s3rver) say so by not echoing it.
  const bool url_encoded = std::string_view(result.child_value("EncodingType")) == "url";
  ListPage page;
  for (pugi::xml_node c = result.child("Contents"); c; c = c.next_sibling("Contents")) {
    ObjectSummary o;
    std::string_view key = c.child_value("Key");
    if (key.empty()) return bad_answer(info.operation, info.resource, "an object without a Key");
    // encoding-type=url values are form-encoded ('+' for space).
    o.key = url_encoded ? percent_decode(key, /*plus_is_space=*/true) : std::string(key);
    std::string_view size = c.child_value("Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
    if (ec != std::errc() || end != size.data() + size.size() || size.empty())
      return bad_answer(
          info.operation, info.resource,
          "the Size '" + escape_controls(size, 40) + "' of '" + escape_controls(o.key) + "' is not a number");
    o.etag = unquote(c.child_value("ETag"));
    page.objects.push_back(std::move(o));
  }
  const std::string_view truncated = result.child_value("IsTruncated");
  if (!truncated.empty() && truncated != "true" && truncated != "false")
    return bad_answer(info.operation, info.resource,
                      "IsTruncated is '" + escape_controls(truncated, 40) + "', not true or false");
  page.truncated = truncated == "true";
  page.next_continuation_token = result.child_value("NextContinuationToken");
  return page;
}

Result<std::vector<ObjectSummary>> S3Client::list_objects(std::string_view bucket, std::string_view prefix,
                                                          int max_keys_per_page) {
  std::vector<ObjectSummary> all;
  std::string token;
  while (true) {
    DDB2S3_ASSIGN_OR_RETURN(ListPage page, list_objects_page(bucket, prefix, token, max_keys_per_page));
    for (ObjectSummary& o : page.objects) all.push_back(std::move(o));
    if (!page.truncated) return all;
    if (page.next_continuation_token.empty() || page.next_continuation_token == token)
      return bad_answer("ListObjectsV2", object_resource(bucket, prefix),
                        "a truncated page without a new continuation token");
    token = std::move(page.next_continuation_token);
  }
}

}  // namespace ddb2s3

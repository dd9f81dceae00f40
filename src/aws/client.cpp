// AwsClient: sign, send, turn error answers into Errors, retry throttling and transient failures.
#include "aws/client.h"

#include <isa-l/crc.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <pugixml.hpp>

#include "base/cancel.h"
#include "base/strings.h"

namespace ddb2s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and "Code:http://..." -> the code alone.
std::string bare_code(std::string_view code) {
  if (size_t hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  if (size_t colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  return std::string(trim(code));
}

// The reason phrase as a code, for answers without a body (HEAD, proxies, load balancers).
std::string code_from_status(long status) {
  switch (status) {
    case 301:
      return "MovedPermanently";
    case 302:
      return "Found";
    case 304:
      return "NotModified";
    case 307:
      return "TemporaryRedirect";
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 411:
      return "LengthRequired";
    case 412:
      return "PreconditionFailed";
    case 413:
      return "PayloadTooLarge";
    case 416:
      return "RangeNotSatisfiable";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalServerError";
    case 501:
      return "NotImplemented";
    case 502:
      return "BadGateway";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "GatewayTimeout";
    default:
      return "Http" + std::to_string(status);
  }
}

// JSON protocols (DynamoDB, STS JSON, SSO): {"__type": "...#Code", "message": "..."}.
void parse_json_error(std::string_view body, Error& e) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) return;
  auto read = [](simdjson::dom::element obj, std::initializer_list<const char*> keys) -> std::string {
    for (const char* key : keys) {
      std::string_view v;
      if (obj[key].get_string().get(v) == simdjson::SUCCESS && !v.empty()) return std::string(v);
    }
    return {};
  };
  simdjson::dom::element scope = doc;
  if (simdjson::dom::element inner; doc["Error"].get(inner) == simdjson::SUCCESS && inner.is_object()) {
    scope = inner;
  }
  e.code = bare_code(read(scope, {"__type", "code", "Code"}));
  if (e.code.empty()) e.code = bare_code(read(doc, {"__type", "code", "Code"}));
  e.message = read(scope, {"message", "Message", "errorMessage"});
  if (e.message.empty()) e.message = read(doc, {"message", "Message"});
  if (e.request_id.empty()) e.request_id = read(doc, {"RequestId", "requestId"});
}

// XML protocols: S3's <Error>, and the query protocol's <ErrorResponse><Error>...</Error><RequestId>.
void parse_xml_error(std::string_view body, Error& e) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return;
  pugi::xml_node root = doc.document_element();
  pugi::xml_node error = std::string_view(root.name()) == "Error" ? root : root.child("Error");
  if (!error) return;
  e.code = bare_code(error.child_value("Code"));
  e.message = trim(error.child_value("Message"));
  if (e.request_id.empty()) e.request_id = trim(error.child_value("RequestId"));
  if (e.request_id.empty()) e.request_id = trim(root.child_value("RequestId"));
}

bool printable_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != haystack.end();
}

// What the user can do about a client error we recognise; empty when we have nothing useful to say.
std::string client_hint(const Error& e, const ServiceConfig& config, const Credentials* creds,
                        const HttpResponse& response) {
  std::string from = creds != nullptr && !creds->source.empty() ? " (from " + creds->source + ")" : "";
  const std::string& c = e.code;
  if (c == "RequestTimeTooSkewed" || contains_ci(e.message, "skew") ||
      contains_ci(e.message, "signature expired")) {
    return "this machine's clock is too far from AWS's (clock skew): synchronise it (NTP) and retry";
  }
  if (c == "SignatureDoesNotMatch" || c == "InvalidSignatureException") {
    return "the signature was rejected: check the secret access key" + from +
           " and that this machine's clock is correct";
  }
  if (c == "UnrecognizedClientException" || c == "InvalidAccessKeyId" || c == "InvalidClientTokenId") {
    return "the access key id" + from + " is not known to this endpoint/account: check the credentials, " +
           "the profile and the endpoint URL";
  }
  if (c == "ExpiredToken" || c == "ExpiredTokenException" || c == "TokenRefreshRequired") {
    return "the session token" + from + " has expired: refresh the credentials (e.g. aws sso login)";
  }
  if (c == "AccessDenied" || c == "AccessDeniedException") {
    return "the credentials" + from + " are not allowed to do this: check the IAM policy";
  }
  if (c == "Forbidden") {  // a HEAD answer has no body to say why
    return "access was refused: check the IAM policy for the credentials" + from +
           ", the secret access key and this machine's clock";
  }
  if (c == "PermanentRedirect" || c == "AuthorizationHeaderMalformed" || c == "MovedPermanently") {
    std::string_view region = response.header("x-amz-bucket-region");
    if (!region.empty() && region != config.region) {
      return "the bucket is in region " + escape_controls(region, 64) + ", not " + config.region +
             ": use that region";
    }
  }
  return {};
}

// Tolerates a RetryClock whose members were left empty.
steady_clock::time_point clock_now(const RetryClock& clock) {
  return clock.now ? clock.now() : steady_clock::now();
}
// Waits d on the clock: an injected sleep (tests), else the real clock, cut short by cancel. False when
// cancel is set (before or while waiting).
bool clock_wait(const RetryClock& clock, milliseconds d, const std::atomic<bool>* cancel) {
  if (is_cancelled(cancel)) return false;
  if (d <= milliseconds(0)) return true;
  if (!clock.sleep) return wait_unless_cancelled(d, cancel);
  clock.sleep(d);
  return !is_cancelled(cancel);
}
double clock_uniform01(const RetryClock& clock) {
  return clock.uniform01 ? clock.uniform01() : RetryClock::system().uniform01();
}

Error cancelled_while_waiting(const Error& last, int attempts) {
  if (attempts == 0) return Error::make(ErrorKind::kCancelled, "Cancelled", "cancelled before it was sent");
  return Error::make(ErrorKind::kCancelled, "Cancelled",
                     "cancelled while waiting to retry (after " + std::to_string(attempts) +
                         (attempts == 1 ? " attempt" : " attempts") + ", the last answered " + last.code +
                         ")");
}

constexpr const char* kCredentialsHint =
    "credentials are looked for in the profile given, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the "
    "profile's keys, role, SSO or credential_process in ~/.aws/credentials and ~/.aws/config (AWS_PROFILE), "
    "web identity, container credentials and EC2 instance metadata";

}  // namespace

Error error_from_response(const HttpResponse& response, const CallInfo& info) {
  Error e;
  e.http_status = static_cast<int>(response.status);
  e.request_id = std::string(response.header("x-amzn-requestid"));
  if (e.request_id.empty()) e.request_id = std::string(response.header("x-amz-request-id"));
  std::string_view body = trim(response.body);
  if (body.starts_with('{')) {
    parse_json_error(body, e);
  } else if (body.starts_with('<')) {
    parse_xml_error(body, e);
  } else if (!body.empty() && printable_text(body.substr(0, 200))) {
    e.message = std::string(body.substr(0, 200));  // a proxy's or load balancer's plain-text answer
  }
  if (e.code.empty()) e.code = bare_code(response.header("x-amzn-errortype"));
  // A code we made up from the status must not change the status's class (a bare 503 is throttling).
  e.kind = classify(e.http_status, e.code);
  if (e.code.empty()) e.code = code_from_status(response.status);
  // What the server wrote is quoted in messages that a terminal or a log shows: its control bytes (and
  // bytes outside ASCII) become \xNN, so that an answer cannot break or forge a line.
  e.code = escape_controls(e.code, 128);
  e.message = escape_controls(e.message, 1000);
  e.request_id = escape_controls(e.request_id, 128);
  e.operation = std::string(info.operation);
  e.resource = info.resource;
  return e;
}

std::optional<Error> check_dynamodb_crc32(const HttpResponse& response) {
  std::string_view header = response.header("x-amz-crc32");
  if (header.empty()) return std::nullopt;
  uint64_t expected = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), expected);
  if (ec != std::errc() || end != header.data() + header.size()) return std::nullopt;  // not ours to judge
  // ISA-L's reflected CRC32 is zlib's crc32, 2.4x faster (8 vs 3.4 GB/s measured here).
  uint64_t actual = crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(response.body.data()),
                                    response.body.size());
  if (actual == expected) return std::nullopt;
  Error e =
      Error::make(ErrorKind::kTransient, "CRC32CheckFailed",
                  "the response body's CRC32 " + std::to_string(actual) + " does not match x-amz-crc32 " +
                      std::to_string(expected) + " (corrupted in transit)");
  e.http_status = static_cast<int>(response.status);
  e.request_id = std::string(response.header("x-amzn-requestid"));
  return e;
}

AwsClient::AwsClient(std::shared_ptr<const ServiceConfig> config)
    : config_(std::move(config)), http_(config_->http) {}

Status AwsClient::send(HttpRequest& request, HttpResponse& response, const CallInfo& info) {
  const ServiceConfig& cfg = *config_;
  const RetryClock& clock = cfg.clock;
  const int max_attempts = std::max(1, cfg.retry.max_attempts);
  auto finish = [&](Error e) -> Status {
    return std::move(e).with_context(std::string(info.operation), info.resource);
  };
  if (!cfg.credentials) {
    Error e = Error::make(ErrorKind::kClient, "NoCredentials", "no credentials provider configured");
    e.hint = kCredentialsHint;
    return finish(std::move(e));
  }

  // Each attempt starts from the caller's headers: the signature, date and token are made afresh.
  Headers original = request.headers;
  // S3 accepts UNSIGNED-PAYLOAD over HTTPS only; over plain HTTP the signed hash is the body's only guard.
  const bool unsigned_payload = cfg.service == "s3" && request.method == "PUT" && !request.body.empty() &&
                                request.url.starts_with("https://") &&
                                !request.header("Content-MD5").empty() &&
                                request.header("X-Amz-Content-Sha256").empty();
  bool add_host = request.header("Host").empty();
  std::string host = add_host ? host_header(request.url) : std::string();
  milliseconds total_delay{0};
  Error last;
  int attempt = 1;
  // A cancelled call ends at once; a cleanup call goes on, briefly and without the shared pause.
  auto cancelled = [&] { return is_cancelled(cfg.cancel); };
  for (;; ++attempt) {
    if (cancelled() && !info.cleanup) {
      request.headers = std::move(original);
      return finish(cancelled_while_waiting(last, attempt - 1));
    }
    if (cfg.throttle && !(info.cleanup && cancelled())) {
      // Another worker was throttled: everyone waits, so that the table recovers.
      auto until = cfg.throttle->paused_until();
      auto now = clock_now(clock);
      if (until > now && !clock_wait(clock, std::chrono::ceil<milliseconds>(until - now), cfg.cancel) &&
          !info.cleanup) {
        request.headers = std::move(original);
        return finish(cancelled_while_waiting(last, attempt - 1));
      }
    }

    Result<Credentials> creds = cfg.credentials->credentials();
    if (!creds.ok()) {
      Error e = std::move(creds).error();
      if (e.hint.empty()) e.hint = kCredentialsHint;
      request.headers = std::move(original);
      return finish(std::move(e));
    }

    request.headers = original;
    if (add_host) request.headers.emplace_back("Host", host);
    SigningParams params;
    params.region = cfg.region;
    params.service = cfg.service;
    params.time = std::chrono::system_clock::now();
    params.s3_path = cfg.service == "s3";
    params.content_sha256_header = cfg.service == "s3";
    if (params.content_sha256_header && unsigned_payload) {
      // As the AWS SDKs do for PutObject/UploadPart: TLS and Content-MD5 guard the body, so it is not
      // hashed a second time for the signature.
      request.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
      params.content_sha256_header = false;
    }
    sign_request(request, *creds, params);

    Status sent = http_.perform(request, response);
    if (!sent.ok()) {
      last = std::move(sent).error();
    } else if (response.status >= 200 && response.status < 300) {
      std::optional<Error> bad = info.check ? info.check(response) : std::nullopt;
      if (!bad) {
        request.headers = std::move(original);
        return {};
      }
      last = std::move(*bad);
    } else {
      last = error_from_response(response, info);
      if (!last.retryable() && last.hint.empty()) last.hint = client_hint(last, cfg, &*creds, response);
    }

    // The retry decision. Every call of a run may be repeated: a repetition after a lost answer does no
    // harm, or the caller recognises its answer (here, and in README's "Failure paths"):
    //   call                                    repeated after a lost answer
    //   Scan, DescribeTable, DescribeContinuousBackups, DescribeExport, ListExports
    //                                           reads: the same answer
    //   ExportTableToPointInTime                its ClientToken (sent on every attempt) makes DynamoDB
    //                                           return the export already started, not a second one
    //   HeadBucket, HeadObject, GetObject, ListObjectsV2
    //                                           reads: the same answer
    //   PutObject, UploadPart                   the same bytes under the same key / part number again
    //   DeleteObject                            204 for a key already gone
    //   CreateMultipartUpload                   a second upload; the first one, empty (no parts, nothing
    //                                           billed), is left to the bucket's lifecycle rule
    //   CompleteMultipartUpload                 answers NoSuchUpload: the sink then checks with HeadObject
    //                                           that the object has the expected size and multipart ETag
    //   AbortMultipartUpload                    answers NoSuchUpload, which counts as done
    //   STS, SSO, container and EC2 credentials reads or fresh temporary credentials
    if (!last.retryable() || attempt >= max_attempts) break;
    const bool cleanup_after_cancel = info.cleanup && cancelled();
    if (cleanup_after_cancel && attempt >= kCleanupAttemptsWhenCancelled) break;
    milliseconds delay = backoff_delay(cfg.retry, attempt, clock_uniform01(clock));
    if (total_delay + delay > cfg.retry.max_total_delay) break;
    if (last.kind == ErrorKind::kThrottling && cfg.throttle && !cleanup_after_cancel) {
      cfg.throttle->throttled_until(clock_now(clock) + delay);
    }
    // A cleanup call's short waits after a cancel are kept; one under way when the cancel comes ends, and
    // the next attempt follows.
    if (!clock_wait(clock, delay, cleanup_after_cancel ? nullptr : cfg.cancel) && !info.cleanup) {
      request.headers = std::move(original);
      return finish(cancelled_while_waiting(last, attempt));
    }
    total_delay += delay;
  }
  request.headers = std::move(original);

  if (last.retryable() && attempt > 1) {
    std::string n = std::to_string(attempt);
    if (last.kind == ErrorKind::kThrottling) {
      last.hint = "still throttled after " + n +
                  " attempts; scan fewer segments at once or raise the table's capacity";
    } else {
      last.hint = "gave up after " + n + " attempts" + (last.hint.empty() ? "" : "; " + last.hint);
    }
  }
  return finish(std::move(last));
}

}  // namespace ddb2s3

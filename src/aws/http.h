// HTTP on libcurl: one HttpClient per worker thread, one keep-alive connection reused.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace ddb2s3 {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  // scheme://host[:port]/path[?query]; path and query already percent-encoded as sent on the wire.
  std::string url;
  Headers headers;        // names as given; the signer lower-cases them for signing
  std::string_view body;  // not owned: the caller keeps it alive for the whole call (retries too)

  void set_header(std::string name, std::string value);  // replaces a header of the same name (any case)
  std::string_view header(std::string_view name) const;  // case-insensitive; empty when absent
};

// What may go on the wire as is (RFC 9110): a header name is a token; a value holds no CR, LF or other
// control character (a tab is allowed); a URL holds no control character, space or non-ASCII byte.
bool is_header_name(std::string_view name);
bool is_header_value(std::string_view value);
bool is_wire_url(std::string_view url);
// True for headers whose value is a secret (Authorization, X-Amz-Security-Token, SSE-C keys): never
// printed.
bool is_secret_header(std::string_view name);
// The last check before a request is sent: an internal Error (code InvalidRequestHeader or
// InvalidRequestUrl) naming the first header or the URL that could not be sent as is; a secret
// header's value is never in the message.
Status check_request(const HttpRequest& request);

struct HttpResponse {
  long status = 0;
  Headers headers;   // names lower-cased
  std::string body;  // reused across calls: clear()ed, capacity kept

  std::string_view header(std::string_view lower_name) const;  // empty when absent
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than 1 byte/s for this long is abandoned (transient error).
  std::chrono::milliseconds read_timeout{60'000};
  std::string ca_bundle;         // AWS_CA_BUNDLE; empty: the system's store
  bool verify_tls = true;
  std::string user_agent;        // default "ddb2s3/<version>"
  size_t receive_buffer = 64 * 1024;  // measured faster than curl's 16 KiB default
};

// Transport failures come back as Error{kind = kTransient, code = "ConnectionError" | "Timeout" |
// "ConnectionReset"...}; an HTTP answer of any status is success at this level.
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Status perform(const HttpRequest& request, HttpResponse& response);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2s3

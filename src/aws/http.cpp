// HttpClient on one libcurl easy handle: the handle keeps its connection between calls (keep-alive).
#include "aws/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/strings.h"
#include "base/url.h"
#include "version.h"

namespace ddb2s3 {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// curl_global_init is not thread-safe on every build, so it runs exactly once per process.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The body of a PUT, streamed from the caller's buffer without a copy.
struct UploadState {
  std::string_view data;
  size_t offset = 0;
};

size_t read_body(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* state = static_cast<UploadState*>(userdata);
  size_t n = std::min(size * nitems, state->data.size() - state->offset);
  std::memcpy(buffer, state->data.data() + state->offset, n);
  state->offset += n;
  return n;
}

// curl rewinds the body when it must send it again (e.g. a reused connection found dead).
int seek_body(void* userdata, curl_off_t offset, int origin) {
  auto* state = static_cast<UploadState*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > state->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  state->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t write_body(char* ptr, size_t size, size_t nmemb, void* userdata) {
  static_cast<HttpResponse*>(userdata)->body.append(ptr, size * nmemb);
  return size * nmemb;
}

size_t write_header(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* response = static_cast<HttpResponse*>(userdata);
  std::string_view line(buffer, size * nitems);
  // A status line starts a response: an interim one (100 Continue) must not leave its headers behind.
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();  // the blank line that ends the headers
  // Optional white space (SP, HTAB) around the value, and the line's CRLF, are not part of it.
  auto header_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  response->headers.emplace_back(to_lower(trim(line.substr(0, colon), header_space)),
                                 std::string(trim(line.substr(colon + 1), header_space)));
  return line.size();
}

// host[:port] of a URL, for error messages (never userinfo, the path or the query, which may carry names).
std::string url_host(std::string_view url) {
  const UrlParts parts = split_url(url);
  std::string out(parts.host);
  if (!parts.port.empty()) out.append(":").append(parts.port);
  return out;
}

Error transport_error(CURLcode rc, long os_errno, const char* detail, std::string_view url) {
  std::string code = "ConnectionError";
  ErrorKind kind = ErrorKind::kTransient;
  std::string hint;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      code = os_errno == ECONNREFUSED ? "ConnectionRefused" : "ConnectionError";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      code = "Timeout";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      code = "DnsError";
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      code = "ConnectionReset";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      kind = ErrorKind::kClient;
      code = "TlsCertificateError";
      hint =
          "the server's TLS certificate could not be verified; behind a TLS-inspecting proxy or with a "
          "private "
          "endpoint, set AWS_CA_BUNDLE to a PEM file with the CA certificates to trust";
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      kind = ErrorKind::kClient;
      code = "InvalidEndpoint";
      hint = "check the endpoint URL (scheme://host[:port])";
      break;
    default:
      break;
  }
  std::string message = curl_easy_strerror(rc);
  message += " (" + url_host(url) + ")";
  if (detail != nullptr && *detail != '\0') message += std::string(": ") + detail;
  Error e = Error::make(kind, std::move(code), std::move(message));
  e.hint = std::move(hint);
  return e;
}

}  // namespace

struct HttpClient::Impl {
  HttpOptions options;
  CurlHandle curl;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->options = std::move(options);
  if (impl_->options.user_agent.empty()) impl_->options.user_agent = "ddb2s3/" DDB2S3_VERSION;
  impl_->curl.reset(curl_easy_init());
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Status HttpClient::perform(const HttpRequest& request, HttpResponse& response) {
  response.status = 0;
  response.headers.clear();
  response.body.clear();
  if (!impl_ || !impl_->curl) return Error::internal("libcurl could not create a handle");
  // curl sends header lines and the URL verbatim: a CR or LF in them would forge headers or requests.
  DDB2S3_RETURN_IF_ERROR(check_request(request));
  CURL* c = impl_->curl.get();
  const HttpOptions& o = impl_->options;

  // Reset forgets the previous request's options but keeps the live connection and DNS cache.
  curl_easy_reset(c);
  impl_->error_buffer[0] = '\0';
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->error_buffer);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  // Whole seconds only in libcurl: a read timeout below one second becomes one second.
  long low_speed_seconds = std::max<long>(1, static_cast<long>((o.read_timeout.count() + 999) / 1000));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_seconds);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, static_cast<long>(o.receive_buffer));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
  if (!o.ca_bundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_bundle.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  // No CURLOPT_ACCEPT_ENCODING: we want the bytes as sent (CRC32 is over them), and no proxy option:
  // libcurl then honours http_proxy/https_proxy/no_proxy from the environment.

  UploadState upload{request.body, 0};
  const std::string& method = request.method;
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    // POST and anything else with a body: POSTFIELDS points at the caller's bytes (no copy).
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  Slist headers;
  auto add = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) {
    add(value.empty() ? name + ";" : name + ": " + value);  // "Name;" is curl's way to send an empty value
  }
  add("Expect:");                                                    // no 100-continue round trip
  if (request.header("Content-Type").empty()) add("Content-Type:");  // no form-urlencoded default on POST
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);

  CURLcode rc = curl_easy_perform(c);
  // The slist and upload state die with this frame: no dangling pointers left in the handle.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    return transport_error(rc, os_errno, impl_->error_buffer, request.url);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return {};
}

}  // namespace ddb2s3

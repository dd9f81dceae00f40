#include "aws/http.h"
#include "base/strings.h"

namespace ddb2s3 {
namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

Error invalid(std::string code, std::string message) {
  return Error::make(ErrorKind::kInternal, std::move(code), std::move(message));
}

}  // namespace

bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool token = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
    if (!token) return false;
  }
  return true;
}

bool is_header_value(std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_control(c) && c != '\t') return false;
  }
  return true;
}

bool is_wire_url(std::string_view url) {
  if (url.empty()) return false;
  for (char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_control(c) || c == ' ' || c >= 0x80) return false;
  }
  return true;
}

bool is_secret_header(std::string_view name) {
  return iequals(name, "Authorization") || iequals(name, "X-Amz-Security-Token") ||
         iequals(name, "x-amz-server-side-encryption-customer-key") ||
         iequals(name, "x-amz-copy-source-server-side-encryption-customer-key") ||
         iequals(name, "X-aws-ec2-metadata-token") || iequals(name, "Proxy-Authorization") ||
         iequals(name, "Cookie");
}

Status check_request(const HttpRequest& request) {
  if (!is_wire_url(request.url))
    return invalid("InvalidRequestUrl", "the request URL '" + escape_controls(request.url) +
                                            "' holds a control character, a space or a non-ASCII byte; "
                                            "not sent");
  for (const auto& [name, value] : request.headers) {
    if (!is_header_name(name))
      return invalid("InvalidRequestHeader", "the request header name '" + escape_controls(name) +
                                                 "' is not an HTTP token; not sent");
    if (!is_header_value(value)) {
      std::string message = "the value of request header '" + name + "' holds a CR, LF or other control character";
      if (!is_secret_header(name)) message += " ('" + escape_controls(value) + "')";
      return invalid("InvalidRequestHeader", message + "; not sent");
    }
  }
  return {};
}

void HttpRequest::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (iequals(n, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

std::string_view HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (n == lower_name) return v;
  return {};
}

}  // namespace ddb2s3

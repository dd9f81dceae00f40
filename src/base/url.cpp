#include "base/url.h"

namespace ddb2s3 {

UrlParts split_url(std::string_view url) {
  UrlParts parts;
  if (size_t hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  if (size_t colon = url.find("://"); colon != std::string_view::npos) {
    parts.scheme = url.substr(0, colon);
    url.remove_prefix(colon + 3);
  }
  size_t authority_end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, authority_end);
  url = authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  size_t port_colon = authority.rfind(':');
  if (port_colon != std::string_view::npos && authority.find(']', port_colon) == std::string_view::npos) {
    parts.port = authority.substr(port_colon + 1);
    authority = authority.substr(0, port_colon);
  }
  parts.host = authority;
  size_t q = url.find('?');
  parts.path = url.substr(0, q);
  if (q != std::string_view::npos) parts.query = url.substr(q + 1);
  return parts;
}

}  // namespace ddb2s3

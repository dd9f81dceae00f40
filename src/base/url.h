// Splitting an absolute URL into its parts (RFC 3986 section 3), without decoding or checking them.
#pragma once

#include <string_view>

namespace ddb2s3 {

// Views into the URL given to split_url.
struct UrlParts {
  std::string_view scheme;  // as written; empty when the URL has no "scheme://"
  std::string_view host;    // without userinfo; an IPv6 literal keeps its brackets: "[::1]"
  std::string_view port;    // the digits after ':'; empty when absent
  std::string_view path;    // from the first '/' on; empty when absent
  std::string_view query;   // after '?', which is left out; empty when absent
};

// scheme://[userinfo@]host[:port][/path][?query][#fragment]; the fragment is dropped.
UrlParts split_url(std::string_view url);

}  // namespace ddb2s3

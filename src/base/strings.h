// ASCII string helpers: trimming, case-insensitive comparison, lower-casing (never locale-dependent).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ddb2s3 {

// Character classes, as function objects so that trim and trim_right inline them (the scan transcoder trims
// every item).
struct AsciiSpace {  // what std::isspace matches in the C locale: space, \t \n \v \f \r
  constexpr bool operator()(char c) const { return c == ' ' || (c >= '\t' && c <= '\r'); }
};
struct JsonSpace {  // JSON's insignificant white space (RFC 8259): space, \n \r \t
  constexpr bool operator()(char c) const { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
};
inline constexpr AsciiSpace is_ascii_space{};
inline constexpr JsonSpace is_json_space{};

// s without the trailing characters for which is_space holds.
template <class IsSpace = AsciiSpace>
constexpr std::string_view trim_right(std::string_view s, IsSpace is_space = {}) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
// s without the leading and trailing characters for which is_space holds.
template <class IsSpace = AsciiSpace>
constexpr std::string_view trim(std::string_view s, IsSpace is_space = {}) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return trim_right(s, is_space);
}

// Equal when ASCII letters are compared without case.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// ASCII letters lower-cased, every other byte as it is.
std::string to_lower(std::string_view s);

// Text from outside (a server's answer, a setting) fit to quote in a message: control and non-ASCII bytes
// as \xNN, cut after max_size bytes with "...", so that printing it cannot break or forge a line.
std::string escape_controls(std::string_view s, size_t max_size = 200);

}  // namespace ddb2s3

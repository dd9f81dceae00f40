// ASCII string helpers: trimming, case-insensitive comparison, lower-casing (never locale-dependent).
#pragma once

#include <string>
#include <string_view>

namespace ddb2s3 {

// What std::isspace matches in the C locale.
inline constexpr std::string_view kAsciiSpace = " \t\n\v\f\r";
// JSON's insignificant white space (RFC 8259), a subset of kAsciiSpace.
inline constexpr std::string_view kJsonSpace = " \t\n\r";

// s without the leading and trailing characters that are in `space`.
std::string_view trim(std::string_view s, std::string_view space = kAsciiSpace);
// s without the trailing characters that are in `space`.
inline std::string_view trim_right(std::string_view s, std::string_view space = kAsciiSpace) {
  while (!s.empty() && space.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

// Equal when ASCII letters are compared without case.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// ASCII letters lower-cased, every other byte as it is.
std::string to_lower(std::string_view s);

}  // namespace ddb2s3

// Byte encodings: hex, base64 (RFC 4648) and URI percent-encoding (RFC 3986).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ddb2s3 {

inline constexpr char kHexDigitsLower[] = "0123456789abcdef";

// Lower-case hex, two digits a byte ("00ff..."): digests as SigV4, S3 ETags and cache file names want them.
std::string hex_encode(std::string_view bytes);
std::string hex_encode(const uint8_t* data, size_t size);
// The value of one hex digit of either case; -1 for any other character.
int hex_value(char c);

// Standard base64 (RFC 4648 section 4) with '=' padding and no line breaks.
std::string base64_encode(std::string_view bytes);
std::string base64_encode(const uint8_t* data, size_t size);

// A byte RFC 3986 leaves unencoded: A-Z a-z 0-9 - _ . ~
bool is_uri_unreserved(unsigned char c);
// Percent-encodes every byte but the unreserved ones (and '/' when keep_slash) as %XX, upper-case hex, as
// SigV4 and S3 want. UTF-8 is encoded byte by byte.
std::string uri_encode(std::string_view s, bool keep_slash);
void append_uri_encoded(std::string& out, std::string_view s, bool keep_slash);
// Decodes valid %XX triplets; anything else (a lone '%', "%zz") stays as it is. With plus_is_space, '+'
// decodes to ' ' (form encoding, as S3's encoding-type=url listings use).
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace ddb2s3

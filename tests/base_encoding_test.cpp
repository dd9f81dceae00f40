// hex, base64 and URI percent-encoding against their RFCs' vectors.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/encoding.h"

namespace ddb2s3 {
namespace {

using namespace std::string_view_literals;

TEST(BaseHex, LowerCaseTwoDigitsAByte) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode("\x00\x01\x7f\x80\xff"sv), "00017f80ff");
  EXPECT_EQ(hex_encode("abc"), "616263");
  const uint8_t bytes[] = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(hex_encode(bytes, sizeof bytes), "deadbeef");
}

TEST(BaseHex, ValueOfEachDigit) {
  for (int i = 0; i < 10; ++i) EXPECT_EQ(hex_value(static_cast<char>('0' + i)), i);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(hex_value(static_cast<char>('a' + i)), 10 + i);
    EXPECT_EQ(hex_value(static_cast<char>('A' + i)), 10 + i);
  }
  for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\xff'}) EXPECT_EQ(hex_value(c), -1) << int(c);
}

TEST(BaseBase64, Rfc4648Vectors) {
  // RFC 4648 section 10: every padding case.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string(100, 'x')).find('\n'), std::string::npos);
}

TEST(BaseBase64, EveryByteValueAndBothHighAlphabetCharacters) {
  EXPECT_EQ(base64_encode("\xfb\xff"sv), "+/8=");
  EXPECT_EQ(base64_encode("\x00"sv), "AA==");
  EXPECT_EQ(base64_encode("\x00\x00\x00"sv), "AAAA");
  EXPECT_EQ(base64_encode("\xff\xff\xff"sv), "////");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string b64 = base64_encode(all);
  EXPECT_EQ(b64.size(), 4u * 86);
  EXPECT_EQ(b64.substr(0, 12), "AAECAwQFBgcI");
  EXPECT_EQ(b64.substr(b64.size() - 8), "/P3+/w==");
  const uint8_t md5_of_empty[] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                  0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};
  EXPECT_EQ(base64_encode(md5_of_empty, sizeof md5_of_empty), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(BaseUri, UnreservedCharactersStayEverythingElseIsPercentEncoded) {
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c=d&e", false), "a%20b%2Bc%3Dd%26e");
  EXPECT_EQ(uri_encode("%", false), "%25");
  EXPECT_EQ(uri_encode("*!'()", false), "%2A%21%27%28%29");
  EXPECT_EQ(uri_encode("\x7f\xff"sv, false), "%7F%FF");  // upper-case hex
  EXPECT_EQ(uri_encode("\0"sv, false), "%00");
  EXPECT_EQ(uri_encode("", true), "");
}

TEST(BaseUri, SlashIsKeptOnlyWhenAsked) {
  EXPECT_EQ(uri_encode("data/0000-00001.json.gz", true), "data/0000-00001.json.gz");
  EXPECT_EQ(uri_encode("data/0000-00001.json.gz", false), "data%2F0000-00001.json.gz");
  EXPECT_EQ(uri_encode("~user/a b/", true), "~user/a%20b/");
  EXPECT_EQ(uri_encode("~user/a b/", false), "~user%2Fa%20b%2F");
}

TEST(BaseUri, Utf8IsEncodedByteByByte) {
  EXPECT_EQ(uri_encode("\xc3\xa9t\xc3\xa9", false), "%C3%A9t%C3%A9");                      // "été"
  EXPECT_EQ(uri_encode("\xe2\x82\xac/\xf0\x9f\x98\x80", true), "%E2%82%AC/%F0%9F%98%80");  // "€/😀"
}

TEST(BaseUri, AppendAddsToWhatIsThere) {
  std::string out = "/bucket/";
  append_uri_encoded(out, "a key", true);
  EXPECT_EQ(out, "/bucket/a%20key");
}

TEST(BasePercentDecode, ValidTripletsOnly) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%2f"), "a b/c/");
  EXPECT_EQ(percent_decode("%C3%A9"), "\xc3\xa9");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("%00"), "\0"sv);
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b%2B", /*plus_is_space=*/true), "a b+");
}

TEST(BasePercentDecode, UndoesUriEncode) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(percent_decode(uri_encode(s, false)), s);
    EXPECT_EQ(percent_decode(uri_encode(s, true)), s);
  }
}

}  // namespace
}  // namespace ddb2s3

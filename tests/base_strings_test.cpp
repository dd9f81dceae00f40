// trim, trim_right, iequals, istarts_with, to_lower.
#include <gtest/gtest.h>

#include <string>

#include "base/strings.h"

namespace ddb2s3 {
namespace {

using namespace std::string_view_literals;

TEST(BaseStrings, TrimRemovesAsciiSpaceAtBothEnds) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("\v\fx\f\v"), "x");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\n "), "");
  EXPECT_EQ(trim("none"), "none");
  EXPECT_EQ(trim("\0 x \0"sv), "\0 x \0"sv);                  // NUL is not space
  EXPECT_EQ(trim("\xc2\xa0x\xc2\xa0"), "\xc2\xa0x\xc2\xa0");  // nor is U+00A0 (bytes >= 0x80 never are)
}

TEST(BaseStrings, TrimWithAnotherSetOfSpaceCharacters) {
  EXPECT_EQ(trim("\f{} \n", is_json_space), "\f{}");  // form feed is not JSON white space
  EXPECT_EQ(trim(" \t{}\r\n", is_json_space), "{}");
  EXPECT_EQ(trim("--x--", [](char c) { return c == '-'; }), "x");
}

TEST(BaseStrings, TrimRightLeavesTheFront) {
  EXPECT_EQ(trim_right("  a  "), "  a");
  EXPECT_EQ(trim_right("{\"a\":1} \n\t\r", is_json_space), "{\"a\":1}");
  EXPECT_EQ(trim_right("x\v", is_json_space), "x\v");
  EXPECT_EQ(trim_right("   "), "");
}

TEST(BaseStrings, SpacePredicates) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool ascii = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    EXPECT_EQ(is_ascii_space(ch), ascii) << c;
    EXPECT_EQ(is_json_space(ch), ascii && c != '\v' && c != '\f') << c;
  }
  static_assert(trim_right("a \n", is_json_space) == "a");  // usable in constant expressions
}

TEST(BaseStrings, IequalsComparesAsciiLettersWithoutCase) {
  EXPECT_TRUE(iequals("Content-MD5", "content-md5"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "Hosts"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{"));                // 0x5B vs 0x7B: differ by 0x20 but are not letters
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // no case folding beyond ASCII
  EXPECT_FALSE(iequals("a\0b"sv, "a\0c"sv));      // the whole length counts, NUL included
  EXPECT_TRUE(istarts_with("X-Amz-Server-Side-Encryption-Customer-Key", "x-amz-server-side-encryption-"));
  EXPECT_FALSE(istarts_with("x-amz", "x-amz-date"));
  EXPECT_TRUE(istarts_with("anything", ""));
}

TEST(BaseStrings, ToLowerChangesAsciiLettersOnly) {
  EXPECT_EQ(to_lower("Host: EXAMPLE.com:443 [AZ@]"), "host: example.com:443 [az@]");
  EXPECT_EQ(to_lower("\xc3\x89T\xc3\x89"), "\xc3\x89t\xc3\x89");
  EXPECT_EQ(to_lower(""), "");
}

TEST(EscapeControls, ControlAndNonAsciiBytesBecomeHexAndLongTextIsCut) {
  EXPECT_EQ(escape_controls("us-east-1"), "us-east-1");
  EXPECT_EQ(escape_controls("a\r\nX: 1"), "a\\x0d\\x0aX: 1");
  EXPECT_EQ(escape_controls(std::string("\0\x7f\xc3\xa9", 4)), "\\x00\\x7f\\xc3\\xa9");
  EXPECT_EQ(escape_controls("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace ddb2s3

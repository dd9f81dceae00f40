// append_json_string's escaping (checked against simdjson's reading of it) and JsonObjectWriter's output.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json_writer.h"

namespace ddb2s3 {
namespace {

using namespace std::string_view_literals;

std::string json_literal(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// What a JSON parser reads back from the literal.
std::optional<std::string> parsed(const std::string& literal) {
  simdjson::dom::parser parser;
  std::string_view s;
  if (parser.parse(literal).get_string().get(s)) return std::nullopt;
  return std::string(s);
}

TEST(BaseJsonString, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(json_literal(""), R"("")");
  EXPECT_EQ(json_literal("plain text"), R"("plain text")");
  EXPECT_EQ(json_literal(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(json_literal(R"(C:\dir\)"), R"("C:\\dir\\")");
  EXPECT_EQ(json_literal("/"), R"("/")");  // '/' needs no escape
}

TEST(BaseJsonString, ControlCharactersAreEscapedByNameOrAsU00XX) {
  EXPECT_EQ(json_literal("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(json_literal("\x00"sv), R"("\u0000")");
  EXPECT_EQ(json_literal("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(json_literal("\x0b"), R"("\u000b")");  // vertical tab has no short form
  EXPECT_EQ(json_literal("\x7f"), "\"\x7f\"");     // DEL is not a control character for JSON
  for (int c = 0; c < 0x20; ++c) {
    const std::string s(1, static_cast<char>(c));
    EXPECT_EQ(parsed(json_literal(s)), s) << c;
  }
}

TEST(BaseJsonString, Utf8IsCopiedAsItIs) {
  EXPECT_EQ(json_literal("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  const std::string mixed = "\xc3\xa9\"\n\\\x01\xf0\x9f\x98\x80";
  EXPECT_EQ(parsed(json_literal(mixed)), mixed);
}

TEST(BaseJsonString, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string(out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

TEST(BaseJsonObjectWriter, FieldsInOrderWithoutWhiteSpace) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("name", "a \"b\"");
  w.string_if_set("absent", "");
  w.string_if_set("present", "x");
  w.string_or_null("sse", "");
  w.string_or_null("kms", "key");
  w.number("count", uint64_t{18446744073709551615u});
  w.number("segment", -1);
  w.number("seconds", 1.5);
  w.raw("scan", R"({"Limit":5})");
  w.close();
  EXPECT_EQ(out, R"({"name":"a \"b\"","present":"x","sse":null,"kms":"key","count":18446744073709551615,)"
                 R"("segment":-1,"seconds":1.500000,"scan":{"Limit":5}})");
  EXPECT_TRUE(w.has("present"));
  EXPECT_TRUE(w.has("scan"));
  EXPECT_FALSE(w.has("absent"));
  EXPECT_FALSE(w.has("Scan"));
}

TEST(BaseJsonObjectWriter, EmptyObjectNestedObjectsAndArrays) {
  std::string out;
  JsonObjectWriter w(out);
  w.close();
  EXPECT_EQ(out, "{}");

  out.clear();
  JsonObjectWriter outer(out);
  outer.key("spec");
  JsonObjectWriter inner(out);
  inner.number("from", 1);
  inner.close();
  const std::vector<int> none;
  const std::vector<int> some = {1, 2, 3};
  outer.array("none", none, [](std::string& o, int) { o += "x"; });
  outer.array("some", some, [](std::string& o, int v) {
    JsonObjectWriter e(o);
    e.number("v", v);
    e.close();
  });
  outer.close();
  EXPECT_EQ(out, R"({"spec":{"from":1},"none":[],"some":[{"v":1},{"v":2},{"v":3}]})");

  std::string list;
  append_json_array(list, std::vector<std::string>{"a", "b\n"},
                    [](std::string& o, const std::string& s) { append_json_string(o, s); });
  EXPECT_EQ(list, R"(["a","b\n"])");
}

}  // namespace
}  // namespace ddb2s3

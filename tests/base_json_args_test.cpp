// The reader of JSON arguments (base/json_args): strict RFC 8259, values kept as written, errors that say
// what and where, no exception ever; and the integer and number readers with their range checks.
#include "base/json_args.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

namespace ddb2s3 {
namespace {

using Kind = JsonValue::Kind;

JsonValue parsed(std::string_view text) {
  auto v = parse_json_arg(text, "--x");
  EXPECT_TRUE(v) << text << ": " << v.error().message;
  return v ? *v : JsonValue{};
}

std::string error_of(std::string_view text) {
  auto v = parse_json_arg(text, "--x");
  EXPECT_FALSE(v) << text;
  if (v) return {};
  EXPECT_EQ(v.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(v.error().field, "--x");
  return v.error().message;
}

TEST(JsonArgs, KeepsEveryValueAsWritten) {
  const std::string text =
      R"( {"n": 12345678901234567890123456789012345678, "f": -0.50e+07, "s": "a\"b\u00e9\ud83d\ude00",)"
      R"( "t": true, "z": null, "l": [1, [], {}], "m": {"k": "v"}} )";
  JsonValue v = parsed(text);
  ASSERT_TRUE(v.is(Kind::kObject));
  EXPECT_EQ(v.text, text.substr(1, text.size() - 2));  // without the spaces around it
  EXPECT_EQ(v.offset, 1u);
  ASSERT_EQ(v.members.size(), 7u);
  EXPECT_EQ(v.find("n")->text, "12345678901234567890123456789012345678");
  EXPECT_EQ(v.find("f")->text, "-0.50e+07");
  EXPECT_EQ(v.find("s")->string, "a\"b\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(v.find("s")->text, R"("a\"b\u00e9\ud83d\ude00")");
  EXPECT_TRUE(v.find("t")->is(Kind::kBool));
  EXPECT_TRUE(v.find("t")->boolean);
  EXPECT_TRUE(v.find("z")->is(Kind::kNull));
  EXPECT_EQ(v.find("l")->text, "[1, [], {}]");
  ASSERT_EQ(v.find("l")->elements.size(), 3u);
  EXPECT_EQ(v.find("m")->text, R"({"k": "v"})");
  EXPECT_EQ(v.members[0].first, "n");  // in the order given
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(parsed("\"\\/\\b\\f\\n\\r\\t\\\\\"").string, "/\b\f\n\r\t\\");
  EXPECT_EQ(parsed("\"\xE2\x82\xAC\"").string, "\xE2\x82\xAC");
  EXPECT_EQ(parsed("-0").text, "-0");
  EXPECT_EQ(parsed("[]").elements.size(), 0u);
}

TEST(JsonArgs, BareWordsOtherThanTrueFalseNullAreErrorsNotCrashes) {
  for (const char* text : {R"({":x": nan})", R"({":x": n})", R"({":x": nul})", R"({":x": nulll})",
                           R"({":x": NaN})", R"({":x": Infinity})", R"({":x": -Infinity})", R"({":x": True})",
                           R"({":x": 'a'})", R"({":x": undefined})", "n", "nan"}) {
    SCOPED_TRACE(text);
    const std::string m = error_of(text);
    EXPECT_NE(m.find("--x is not valid JSON: "), std::string::npos) << m;
    EXPECT_NE(m.find(" at byte "), std::string::npos) << m;
  }
  EXPECT_NE(error_of(R"({":x": nan})").find("'nan' is not a JSON value"), std::string::npos);
  EXPECT_NE(error_of(R"({":x": nan})").find("at byte 8 (at 'nan}')"), std::string::npos)
      << error_of(R"({":x": nan})");
}

TEST(JsonArgs, NumbersFollowJsonsGrammar) {
  for (const char* bad :
       {"1\\", "1x", "-", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "1.e5", "0x10", "1_000", "1\x01",
        "\x01"
        "1",
        "--1", "1..2", "1e5.5"}) {
    SCOPED_TRACE(bad);
    std::string text = std::string(R"({":a": )") + bad + "}";
    EXPECT_NE(error_of(text).find("byte 8"), std::string::npos) << error_of(text);
  }
  for (const char* good : {"0", "-0", "1", "-1", "10", "1.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "0.1e10",
                           "123456789012345678901234567890123456789"}) {
    SCOPED_TRACE(good);
    const std::string text = std::string("[") + good + "]";  // (the value views it)
    JsonValue v = parsed(text);
    ASSERT_EQ(v.elements.size(), 1u);
    EXPECT_EQ(v.elements[0].text, good);
    EXPECT_TRUE(v.elements[0].is(Kind::kNumber));
  }
}

TEST(JsonArgs, TextAfterTheValueIsAnError) {
  const std::string m = error_of(R"({":a":5} xyz)");
  EXPECT_NE(m.find("unexpected text after the JSON value at byte 10 (at 'xyz')"), std::string::npos) << m;
  EXPECT_FALSE(parse_json_arg("{} {}", "--x"));
  EXPECT_FALSE(parse_json_arg("1 2", "--x"));
  EXPECT_FALSE(parse_json_arg("{}}", "--x"));
  EXPECT_TRUE(parse_json_arg(" {} \n\t\r", "--x"));
}

TEST(JsonArgs, ErrorsSayWhatAndWhere) {
  EXPECT_EQ(error_of(R"({"Limit": 5,)"),
            "--x is not valid JSON: expected a member name in double quotes at byte 13 "
            "(the text ends after '{\"Limit\": 5,')");
  EXPECT_EQ(error_of(""), "--x is not valid JSON: no JSON value at byte 1 (the text is empty)");
  EXPECT_NE(error_of("   ").find("no JSON value at byte 4"), std::string::npos);
  EXPECT_NE(error_of(R"({"a" 1})").find("expected ':' after the member name at byte 6"), std::string::npos);
  EXPECT_NE(error_of(R"({"a":1 "b":2})").find("expected ',' or '}' after an object member at byte 8"),
            std::string::npos);
  EXPECT_NE(error_of(R"([1 2])").find("expected ',' or ']' after an array element at byte 4"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"a":1,})").find("expected a member name in double quotes at byte 8"),
            std::string::npos);
  EXPECT_NE(error_of(R"([1,])").find("byte 4"), std::string::npos);
  EXPECT_NE(error_of(R"({'a':1})").find("expected a member name in double quotes at byte 2"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"a":)").find("expected the member's value at byte 6"), std::string::npos);
  EXPECT_NE(error_of(R"(["abc)").find("the string that begins here is not closed at byte 2"),
            std::string::npos);
  EXPECT_NE(error_of("[\"a\\").find("not closed"), std::string::npos);
  EXPECT_NE(error_of(R"(["a\q"])").find("invalid escape '\\q' in a string at byte 4"), std::string::npos);
  EXPECT_NE(error_of(R"(["\u12"])").find("\\u must be followed by 4 hex digits"), std::string::npos);
  EXPECT_NE(
      error_of("[\"a\tb\"]").find("control character U+0009 in a string (write it as \\u0009) at byte 4"),
      std::string::npos);
  EXPECT_NE(error_of("[\"a\nb\"]").find("U+000A"), std::string::npos);
  EXPECT_NE(error_of(R"({"a":1,"b":2,"a":3})").find("the member name \"a\" is given twice at byte 14"),
            std::string::npos);
  // The shown text is printable, whatever the input holds.
  EXPECT_NE(error_of("[\x01]").find("(at '\\x01]')"), std::string::npos) << error_of("[\x01]");
  // A long text is shown in part.
  const std::string m = error_of(std::string(R"({"a":)") + std::string(100, '1') + "x}");
  EXPECT_NE(m.find("..."), std::string::npos);
  EXPECT_LT(m.size(), 250u);
}

TEST(JsonArgs, StringsMustBeValidUnicode) {
  for (const char* bad : {"[\"\xC3\"]", "[\"\xC0\xAF\"]", "[\"\xED\xA0\x80\"]", "[\"\xF4\x90\x80\x80\"]",
                          "[\"\xFF\"]", "[\"\x80\"]", "[\"\xE2\x82\"]", R"(["\ud800"])", R"(["\udc00"])",
                          R"(["\ud800\u0041"])", R"(["\ud800x"])", "\xEF\xBB\xBF{}"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_json_arg(bad, "--x"));
  }
  EXPECT_EQ(parsed(R"(["\u0000"])").elements[0].string, std::string(1, '\0'));
  EXPECT_EQ(parsed(R"(["\uD834\uDD1E"])").elements[0].string, "\xF0\x9D\x84\x9E");
}

TEST(JsonArgs, DeepNestingIsAnErrorNotAStackOverflow) {
  EXPECT_TRUE(parse_json_arg(std::string(256, '[') + std::string(256, ']'), "--x"));
  const std::string deep = std::string(257, '[') + std::string(257, ']');
  EXPECT_NE(error_of(deep).find("nests deeper than 256 levels"), std::string::npos);
  EXPECT_FALSE(parse_json_arg(std::string(100000, '['), "--x"));
  EXPECT_FALSE(parse_json_arg(std::string(100000, '{'), "--x"));
}

// Against simdjson's DOM parser, a complete validating reader: the same texts are accepted and refused,
// over many small mutations of valid arguments (where the two differ by design, the case is skipped:
// member names given twice, numbers out of a double's range).
TEST(JsonArgs, AcceptsWhatSimdjsonAcceptsOverMutatedArguments) {
  const std::vector<std::string> seeds = {
      R"({"FilterExpression":"#s = :v","ExpressionAttributeNames":{"#s":"status"},"Limit":25})",
      R"({":v":{"N":"5"},":s":{"S":"x\ty\u00e9"},":l":{"L":[{"BOOL":true},{"NULL":true}]}})",
      R"({":a": 5, ":b": -1.5e3, ":c": "x", ":d": [1, 2, {"e": null}], ":f": false})",
      R"({"Metadata": {"a": "b"}, "BucketKeyEnabled": true, "StorageClass": "STANDARD_IA"})",
      R"([0, -0, 0.5, "\"\\\/\b\f\n\r\t", {}, []])",
  };
  const std::string alphabet = "{}[]:,\" \\-+.0123456789eEtrufalsn\x01\xC3\xA9\x80u";
  std::mt19937 gen(20240501);
  simdjson::dom::parser dom;
  int compared = 0, accepted = 0;
  for (int round = 0; round < 30000; ++round) {
    std::string text = seeds[gen() % seeds.size()];
    const int edits = 1 + static_cast<int>(gen() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = gen() % text.size();
      const char c = alphabet[gen() % alphabet.size()];
      switch (gen() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    auto ours = parse_json_arg(text, "--x");
    simdjson::dom::element element;
    const auto theirs = dom.parse(text).get(element);
    if (!ours && ours.error().message.find("is given twice") != std::string::npos) continue;
    if (theirs == simdjson::NUMBER_ERROR) continue;
    ++compared;
    accepted += theirs == simdjson::SUCCESS;
    EXPECT_EQ(ours.ok(), theirs == simdjson::SUCCESS)
        << "text: " << text << "\nours: " << (ours ? "accepted" : ours.error().message)
        << "\nsimdjson: " << simdjson::error_message(theirs);
  }
  EXPECT_GT(compared, 20000);
  EXPECT_GT(accepted, 2000) << "mutations that stay valid JSON are compared too";
  EXPECT_LT(accepted, compared - 2000);
}

TEST(JsonArgs, IntegersAreRangeChecked) {
  EXPECT_EQ(*parse_integer("4", 1, 10, "--n"), 4);
  EXPECT_EQ(*parse_integer("-3", -5, 10, "--n"), -3);
  EXPECT_EQ(*parse_integer("007", 1, 10, "--n"), 7);
  EXPECT_EQ(*parse_integer("9223372036854775807", 0, INT64_MAX, "--n"), INT64_MAX);
  for (const char* bad : {"", "-", "0", "11", "4294967297", "99999999999999999999999", "1.5", "1e3", " 4",
                          "4 ", "+4", "4x", "0x4", "--4"}) {
    SCOPED_TRACE(bad);
    auto r = parse_integer(bad, 1, 10, "--n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(r.error().message, "--n must be an integer from 1 to 10, not '" + std::string(bad) + "'");
  }

  auto json = [](std::string_view text) { return *parse_json_arg(text, "j"); };
  EXPECT_EQ(*json_integer(json("1000000"), 1, 1000000, "TotalSegments"), 1000000);
  EXPECT_EQ(json_integer(json("4294967297"), 1, 1000000, "TotalSegments").error().message,
            "TotalSegments must be an integer from 1 to 1000000, not '4294967297'");
  EXPECT_EQ(json_integer(json("-1"), 0, 9, "Segment").error().message,
            "Segment must be an integer from 0 to 9, not '-1'");
  EXPECT_EQ(json_integer(json("5.0"), 1, 9, "Limit").error().message,
            "Limit must be an integer from 1 to 9, not '5.0'");
  EXPECT_FALSE(json_integer(json("5e0"), 1, 9, "Limit"));
  EXPECT_EQ(json_integer(json("\"5\""), 1, 9, "Limit").error().message,
            "Limit must be an integer from 1 to 9, not a string");
  EXPECT_EQ(json_integer(json("true"), 1, 9, "Limit").error().message,
            "Limit must be an integer from 1 to 9, not true");
  EXPECT_FALSE(json_integer(json("123456789012345678901234567890"), 1, INT64_MAX, "Limit"));
}

TEST(JsonArgs, NumbersAreFiniteDoubles) {
  auto json = [](std::string_view text) { return *parse_json_arg(text, "j"); };
  EXPECT_DOUBLE_EQ(*json_number(json("1714564800.5"), "ExportTime"), 1714564800.5);
  EXPECT_DOUBLE_EQ(*json_number(json("-1e3"), "ExportTime"), -1000);
  EXPECT_NE(json_number(json("1e400"), "ExportTime").error().message.find("ExportTime is out of range"),
            std::string::npos);
  EXPECT_EQ(json_number(json("{}"), "ExportTime").error().message,
            "ExportTime must be a number, not an object");
}

}  // namespace
}  // namespace ddb2s3

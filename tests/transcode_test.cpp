#include "scan/transcode.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddb2s3 {
namespace {

namespace od = simdjson::ondemand;

// --- Checking helpers -----------------------------------------------------------------------

// The canonical JSON string for already-decoded UTF-8 text: what the transcoder must emit.
std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// Re-serialises a parsed value canonically (numbers as their raw digits); false when invalid.
bool reserialise(od::value v, std::string& out) {
  od::json_type type;
  if (v.type().get(type)) return false;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (v.get_object().get(obj)) return false;
      out += '{';
      bool first = true;
      for (auto f : obj) {
        od::field field;
        if (std::move(f).get(field)) return false;
        std::string_view key;
        if (field.unescaped_key().get(key)) return false;
        if (!first) out += ',';
        first = false;
        out += quote(key) + ":";
        if (!reserialise(field.value(), out)) return false;
      }
      out += '}';
      return true;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return false;
      out += '[';
      bool first = true;
      for (auto e : arr) {
        od::value element;
        if (e.get(element)) return false;
        if (!first) out += ',';
        first = false;
        if (!reserialise(element, out)) return false;
      }
      out += ']';
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      out += quote(s);
      return true;
    }
    case od::json_type::number: {
      std::string_view token = v.raw_json_token();
      while (!token.empty() && (token.back() == ' ' || token.back() == '\n')) token.remove_suffix(1);
      if (!is_json_number(token)) return false;
      out += token;
      return true;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b)) return false;
      out += b ? "true" : "false";
      return true;
    }
    case od::json_type::null:
      if (!v.is_null()) return false;
      out += "null";
      return true;
  }
  return false;
}

// Parses one line as a JSON object with simdjson and re-serialises it canonically ("" if invalid).
std::string reparse(std::string_view line) {
  od::parser parser;
  simdjson::padded_string padded(line);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return "";
  od::value root;
  if (doc.get_value().get(root)) return "";
  std::string out;
  if (!reserialise(root, out)) return "";
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return "";
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));  // an unterminated last line: a bug the tests catch
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string page_of(const std::vector<std::string>& items, std::string_view extra = "") {
  std::string body = "{\"Count\":" + std::to_string(items.size()) + ",\"Items\":[";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  body += "],\"ScannedCount\":" + std::to_string(items.size() + 1);
  body += extra;
  return body + "}";
}

struct Transcoded {
  PageInfo info;
  std::vector<std::string> lines;
  std::string out;
};

Transcoded transcode_ok(std::string body, OutputFormat format = OutputFormat::kJsonl) {
  PageTranscoder transcoder(format);
  Transcoded t;
  auto result = transcoder.transcode(body, t.out);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  if (!result.ok()) return t;
  t.info = std::move(*result);
  EXPECT_TRUE(t.out.empty() || t.out.back() == '\n');
  t.lines = split_lines(t.out);
  EXPECT_EQ(t.lines.size(), t.info.items);
  for (const std::string& line : t.lines) {
    if (format == OutputFormat::kJsonl) {
      EXPECT_EQ(reparse(line), line) << "not canonical valid JSON: " << line;
    } else {
      EXPECT_NE(reparse(line), "") << "not valid JSON: " << line;
    }
  }
  return t;
}

// The single line of a one-item page.
std::string jsonl_of(const std::string& item) {
  Transcoded t = transcode_ok(page_of({item}));
  return t.lines.size() == 1 ? t.lines[0] : "<no line>";
}

// --- jsonl: every type ------------------------------------------------------------------------

TEST(TranscodeJsonl, EveryTypeInResponseOrder) {
  const std::string item =
      R"({"pk":{"S":"user#1"},"n":{"N":"42"},"bin":{"B":"AAEC/w=="},"t":{"BOOL":true},"f":{"BOOL":false},)"
      R"("nil":{"NULL":true},"ss":{"SS":["a","b"]},"ns":{"NS":["1","-2.5"]},"bs":{"BS":["AQ==","Ag=="]},)"
      R"("l":{"L":[{"S":"x"},{"N":"1"},{"NULL":true},{"L":[]}]},"m":{"M":{"k":{"S":"v"},"z":{"BOOL":false}}}})";
  EXPECT_EQ(jsonl_of(item),
            R"({"pk":"user#1","n":42,"bin":"AAEC/w==","t":true,"f":false,"nil":null,"ss":["a","b"],)"
            R"("ns":[1,-2.5],"bs":["AQ==","Ag=="],"l":["x",1,null,[]],"m":{"k":"v","z":false}})");
}

TEST(TranscodeJsonl, NumbersKeepEveryDigitVerbatim) {
  const std::vector<std::string> numbers = {"12345678901234567890123456789012345678",
                                            "-12345678901234567890123456789012345678",
                                            "1E-130",
                                            "9.9999999999999999999999999999999999999E+125",
                                            "-0.5",
                                            "1e+5",
                                            "0",
                                            "-0",
                                            "0.000000000000000000000000000000000000001",
                                            "3.14159265358979323846264338327950288"};
  for (const std::string& n : numbers) {
    EXPECT_EQ(jsonl_of(R"({"n":{"N":")" + n + R"("},"s":{"NS":[")" + n + R"(","7"]}})"),
              R"({"n":)" + n + R"(,"s":[)" + n + ",7]}");
  }
}

TEST(TranscodeJsonl, WhitespaceInsideTypedValues) {
  EXPECT_EQ(jsonl_of("{ \"a\" : { \"S\" : \"x\" } , \"b\":{\n\"N\":\t\"1\"\r\n},\"c\":{\"BOOL\" :false },"
                     "\"d\":{ \"NULL\": true},\"e\":{ \"L\" : [ { \"B\" : \"AQ==\" } ] } }"),
            R"({"a":"x","b":1,"c":false,"d":null,"e":["AQ=="]})");
}

TEST(TranscodeJsonl, EmptyContainersAndEmptyItem) {
  EXPECT_EQ(
      jsonl_of(R"({"ss":{"SS":[]},"ns":{"NS":[]},"bs":{"BS":[]},"l":{"L":[]},"m":{"M":{}},"s":{"S":""}})"),
      R"({"ss":[],"ns":[],"bs":[],"l":[],"m":{},"s":""})");
  EXPECT_EQ(jsonl_of("{}"), "{}");
}

std::string nested(int depth, bool map) {
  std::string typed = R"({"S":"leaf"})";
  for (int i = 0; i < depth; ++i) typed = map ? R"({"M":{"k":)" + typed + "}}" : R"({"L":[)" + typed + "]}";
  return typed;
}

std::string nested_plain(int depth, bool map) {
  std::string plain = "\"leaf\"";
  for (int i = 0; i < depth; ++i) plain = map ? "{\"k\":" + plain + "}" : "[" + plain + "]";
  return plain;
}

TEST(TranscodeJsonl, NestedMapsAndListsToDynamoDbsDepthLimit) {
  for (bool map : {true, false}) {
    EXPECT_EQ(jsonl_of(R"({"a":)" + nested(32, map) + "}"), R"({"a":)" + nested_plain(32, map) + "}");
  }
  std::string mixed = R"({"N":"1"})";
  for (int i = 0; i < 16; ++i) mixed = R"({"M":{"l":{"L":[{"BOOL":true},)" + mixed + "]}}}";
  std::string plain = "1";
  for (int i = 0; i < 16; ++i) plain = R"({"l":[true,)" + plain + "]}";
  EXPECT_EQ(jsonl_of(R"({"a":)" + mixed + "}"), R"({"a":)" + plain + "}");
}

TEST(TranscodeJsonl, UnicodeKeptAsUtf8AndEscapesDecodedCanonically) {
  // Raw multi-byte UTF-8 (2, 3 and 4 bytes) passes as is.
  EXPECT_EQ(jsonl_of(R"({"名前":{"S":"héllo 日本語 😀 ∑"}})"), R"({"名前":"héllo 日本語 😀 ∑"})");
  // \uXXXX escapes, surrogate pairs included, become UTF-8; '\/' becomes '/'.
  EXPECT_EQ(jsonl_of(R"({"k\u00e9":{"S":"\u0041\u00e9\u65e5\ud83d\ude00\/x"}})"), R"({"ké":"Aé日😀/x"})");
  EXPECT_EQ(jsonl_of(R"({"k":{"S":"\uD83D\uDE00"}})"), R"({"k":"😀"})");
  // A lone surrogate has no UTF-8 form: it becomes U+FFFD, the replacement character.
  EXPECT_EQ(jsonl_of(R"({"k":{"S":"a\ud800b\udc00c\ud83d"}})"), R"({"k":"a�b�c�"})");
  // Sets of strings and binary go through the same path.
  EXPECT_EQ(jsonl_of(R"({"k":{"SS":["\u00e9","é"]}})"), R"({"k":["é","é"]})");
}

TEST(TranscodeJsonl, ControlCharactersQuotesAndBackslashesEscapedCanonically) {
  EXPECT_EQ(jsonl_of(R"({"k":{"S":"q\"b\\n\nt\tr\rb\bf\f"}})"), R"({"k":"q\"b\\n\nt\tr\rb\bf\f"})");
  // Escaped controls, quote and backslash written as \u come out in the short or \u00XX form.
  EXPECT_EQ(jsonl_of(R"({"k":{"S":"\u0001\u001F\u000a\u0022\u005c\u0008\u007f"}})"),
            "{\"k\":\"\\u0001\\u001f\\n\\\"\\\\\\b\x7f\"}");
  // Quotes and backslashes in attribute names too.
  EXPECT_EQ(jsonl_of(R"({"a\"b\\c":{"S":"v"}})"), R"({"a\"b\\c":"v"})");
  // Long strings cross the 16-byte scanning blocks at every offset.
  for (size_t n = 0; n < 40; ++n) {
    const std::string run(n, 'x');
    EXPECT_EQ(jsonl_of(R"({"k":{"S":")" + run + R"(\n)" + run + R"("}})"),
              R"({"k":")" + run + R"(\n)" + run + R"("})");
  }
}

TEST(TranscodeJsonl, RawControlCharacterInAStringIsRejected) {
  // Invalid JSON that DynamoDB never sends: simdjson refuses it, and so do we.
  PageTranscoder transcoder(OutputFormat::kJsonl);
  std::string body =
      page_of({"{\"k\":{\"S\":\"a\x01"
               "b\"}}"});
  std::string out;
  auto result = transcoder.transcode(body, out);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "MalformedScanResponse");
}

// --- page fields ------------------------------------------------------------------------------

TEST(TranscodePage, EmptyItemsGiveNoLines) {
  Transcoded t = transcode_ok(R"({"Count":0,"Items":[],"ScannedCount":25})");
  EXPECT_EQ(t.out, "");
  EXPECT_EQ(t.info.count, 0u);
  EXPECT_EQ(t.info.items, 0u);
  EXPECT_EQ(t.info.scanned_count, 25u);
  EXPECT_EQ(t.info.last_evaluated_key, "");
}

TEST(TranscodePage, LastEvaluatedKeyPresentOrAbsent) {
  Transcoded with = transcode_ok(
      page_of({R"({"a":{"S":"1"}})"}, R"(,"LastEvaluatedKey":{"pk":{"S":"k#9"},"sk":{"N":"3"}})"));
  EXPECT_EQ(with.info.last_evaluated_key, R"({"pk":{"S":"k#9"},"sk":{"N":"3"}})");
  Transcoded without = transcode_ok(page_of({R"({"a":{"S":"1"}})"}));
  EXPECT_EQ(without.info.last_evaluated_key, "");
  EXPECT_EQ(without.info.count, 1u);
  EXPECT_EQ(without.info.scanned_count, 2u);
}

TEST(TranscodePage, FieldsInAnyOrderAndWhitespace) {
  const std::string body =
      "{\n  \"LastEvaluatedKey\" : { \"pk\" : { \"S\" : \"z\" } },\n  \"ConsumedCapacity\": {\"TableName\": "
      "\"t\", "
      "\"CapacityUnits\": 0.5},\n  \"ScannedCount\": 9,\n  \"Items\": [\n    {\"a\": {\"N\": \"1\"}, \"b\": "
      "{\"SS\": "
      "[\"x\", \"y\"]}},\n    { }\n  ],\n  \"Count\" : 2\n}\n";
  Transcoded t = transcode_ok(body);
  ASSERT_EQ(t.lines.size(), 2u);
  EXPECT_EQ(t.lines[0], R"({"a":1,"b":["x","y"]})");
  EXPECT_EQ(t.lines[1], "{}");
  EXPECT_EQ(t.info.count, 2u);
  EXPECT_EQ(t.info.scanned_count, 9u);
  EXPECT_EQ(t.info.last_evaluated_key, R"({"pk":{"S":"z"}})");
}

TEST(TranscodePage, CountDefaultsToTheItemsFound) {
  Transcoded t = transcode_ok(R"({"Items":[{"a":{"S":"1"}},{"a":{"S":"2"}}]})");
  EXPECT_EQ(t.info.count, 2u);
  EXPECT_EQ(t.info.scanned_count, 0u);
  // Select=COUNT pages have no Items at all.
  Transcoded counted = transcode_ok(R"({"Count":7,"ScannedCount":7})");
  EXPECT_EQ(counted.info.count, 7u);
  EXPECT_EQ(counted.out, "");
}

TEST(TranscodePage, AppendsToOutAndReusesTheTranscoderAcrossPages) {
  PageTranscoder transcoder(OutputFormat::kJsonl);
  std::string out = "previous\n";
  std::string first = page_of({R"({"a":{"N":"1"}})"});
  std::string second = page_of({R"({"a":{"N":"2"}})", R"({"a":{"N":"3"}})"});
  ASSERT_TRUE(transcoder.transcode(first, out).ok());
  ASSERT_TRUE(transcoder.transcode(second, out).ok());
  EXPECT_EQ(out, "previous\n{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
}

TEST(TranscodePage, PaddedBodyIsUsedInPlaceAndUnpaddedBodyIsPaddedOnce) {
  PageTranscoder transcoder(OutputFormat::kJsonl);
  std::string body = page_of({R"({"a":{"S":"x"}})"});
  body.reserve(body.size() + kScanBodyPadding);
  const char* before = body.data();
  const std::string copy = body;
  std::string out;
  ASSERT_TRUE(transcoder.transcode(body, out).ok());
  EXPECT_EQ(body.data(), before);
  EXPECT_EQ(body, copy);

  std::string tight = copy;
  tight.shrink_to_fit();
  out.clear();
  ASSERT_TRUE(transcoder.transcode(tight, out).ok());
  EXPECT_EQ(out, "{\"a\":\"x\"}\n");
  EXPECT_EQ(tight, copy);
  EXPECT_GE(tight.capacity() - tight.size(), kScanBodyPadding);
}

// A fuzz finding (tests/fuzz/findings/transcode-buffer-growth): with an item callback, a page that failed
// part way left the line buffer grown, and the next page wrote after those bytes, so the buffer doubled
// with every such page. The heap must stay flat. (mallinfo2 counts glibc's heap; under ASan it reads 0.)
TEST(TranscodePage, ItemCallbackBufferStaysFlatOverFailingPages) {
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
    PageTranscoder transcoder(format);
    transcoder.set_item_callback([](std::string_view line, std::string& out) { out.append(line); });
    const std::string page =
        R"({"Count":3,"Items":[{"id":{"S":"a\u00e9\n\"q\" \ud84d\ude00"},"n":{"N"1e30000000000000000036060)"
        R"(27499638768842/w=="},"t":{"BOO8}})";
    std::string out;
    const size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 40; ++i) {
      std::string body = page;
      out.clear();
      EXPECT_FALSE(transcoder.transcode(body, out).ok());
    }
    const size_t after = mallinfo2().uordblks;
    EXPECT_LT(after, before + (16u << 20)) << "heap grew by " << (after - before) << " bytes";
  }
}

TEST(TranscodePage, ItemCallbackSeesEachLineAndDecidesTheOutput) {
  PageTranscoder transcoder(OutputFormat::kJsonl);
  std::vector<std::string> seen;
  transcoder.set_item_callback([&](std::string_view line, std::string& out) {
    seen.emplace_back(line);
    if (line.find("drop") == std::string_view::npos) out.append("<").append(line).append(">\n");
  });
  std::string body = page_of({R"({"a":{"S":"keep"}})", R"({"a":{"S":"drop"}})", R"({"a":{"N":"5"}})"});
  std::string out;
  auto result = transcoder.transcode(body, out);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->items, 3u);
  EXPECT_EQ(seen, (std::vector<std::string>{R"({"a":"keep"})", R"({"a":"drop"})", R"({"a":5})"}));
  EXPECT_EQ(out, "<{\"a\":\"keep\"}>\n<{\"a\":5}>\n");

  transcoder.set_item_callback(nullptr);
  out.clear();
  ASSERT_TRUE(transcoder.transcode(body, out).ok());
  EXPECT_EQ(split_lines(out).size(), 3u);
}

// --- dynamodb-json ----------------------------------------------------------------------------

TEST(TranscodeDynamoDbJson, CopiesEachItemsTypedJsonIntoAnItemLine) {
  const std::vector<std::string> items = {
      R"({"pk":{"S":"a \"q\" \u00e9 é"},"n":{"N":"12345678901234567890123456789012345678"},"b":{"B":"AQ=="}})",
      R"({"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"NS":["1E-130"]}]}}},"e":{"SS":[]}})", "{}"};
  Transcoded t =
      transcode_ok(page_of(items, R"(,"LastEvaluatedKey":{"pk":{"S":"a"}})"), OutputFormat::kDynamoDbJson);
  ASSERT_EQ(t.lines.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(t.lines[i], "{\"Item\":" + items[i] + "}");
  EXPECT_EQ(t.info.last_evaluated_key, R"({"pk":{"S":"a"}})");
}

TEST(TranscodeDynamoDbJson, NonCompactPagesAreMinified) {
  // Spaces after separators (as Python's json.dumps writes them), and newlines.
  Transcoded spaced =
      transcode_ok(R"({"Items": [{"a": {"S": "x y"}, "b": {"L": [{"N": "1"}]}}, {"c": {"BOOL": true}}]})",
                   OutputFormat::kDynamoDbJson);
  EXPECT_EQ(spaced.lines, (std::vector<std::string>{R"({"Item":{"a":{"S":"x y"},"b":{"L":[{"N":"1"}]}}})",
                                                    R"({"Item":{"c":{"BOOL":true}}})"}));
  // A compact first item, then one with a newline inside: no line may break.
  Transcoded broken = transcode_ok("{\"Items\":[{\"a\":{\"S\":\"x\"}},{\"b\":\n{\"S\":\"y\\n\"}\t}]}",
                                   OutputFormat::kDynamoDbJson);
  EXPECT_EQ(broken.lines,
            (std::vector<std::string>{R"({"Item":{"a":{"S":"x"}}})", R"({"Item":{"b":{"S":"y\n"}}})"}));
}

TEST(TranscodeDynamoDbJson, LongItemsAreCopiedWhole) {
  for (size_t n : {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 1000, 70000}) {
    const std::string item = R"({"s":{"S":")" + std::string(n, 'v') + R"("}})";
    Transcoded t = transcode_ok(page_of({item, item}), OutputFormat::kDynamoDbJson);
    ASSERT_EQ(t.lines.size(), 2u);
    EXPECT_EQ(t.lines[1], "{\"Item\":" + item + "}");
  }
}

// --- malformed input --------------------------------------------------------------------------

TEST(TranscodeMalformed, ReportedWithAShortExcerptAndOutUntouched) {
  const std::string big(100000, 'x');
  const std::vector<std::string> bodies = {
      "",
      "not json",
      R"({"Items":[{"a":{"S":"x"}})",                    // truncated
      R"({"Items":{"a":{"S":"x"}}})",                    // Items not an array
      R"({"Items":["x"]})",                              // item not an object
      R"({"Items":[{"a":"x"}]})",                        // attribute value not typed
      R"({"Items":[{"a":{"X":"1"}}]})",                  // unknown type descriptor
      R"({"Items":[{"a":{"SSS":["1"]}}]})",              // unknown type descriptor
      R"({"Items":[{"a":{"S":"1","N":"1"}}]})",          // two descriptors
      R"({"Items":[{"a":{}}]})",                         // no descriptor
      R"({"Items":[{"a":{"N":"12abc"}}]})",              // N not a number
      R"({"Items":[{"a":{"N":"+1"}}]})",                 // N not a JSON number
      R"({"Items":[{"a":{"N":""}}]})",                   // empty N
      R"({"Items":[{"a":{"N":5}}]})",                    // N not in a string
      R"({"Items":[{"a":{"S":1}}]})",                    // S not a string
      R"({"Items":[{"a":{"SS":"x"}}]})",                 // set not an array
      R"({"Items":[{"a":{"BOOL":"true"}}]})",            // BOOL not a boolean
      R"({"Items":[{"a":{"M":[]}}]})",                   // M not an object
      R"({"Items":[{"a":{"S":"bad \x escape"}}]})",      // invalid escape
      R"({"Items":[{"a":{"S":"bad \u12G4 escape"}}]})",  // invalid \u
      R"({"Items":[{"a":{"S":"x"}}]} trailing)",         // trailing content
      R"({"Count":"1","Items":[]})",                     // Count not a number
      R"({"Items":[{"a":)" + nested(100, true) + "}]}",  // deeper than any DynamoDB item
      R"({"Items":[{"a":{"S":")" + big + R"(}}]})",      // unterminated long string
      "{\"Items\":[{\"a\":{\"S\":\"\xff\xfe\"}}]}",      // invalid UTF-8
      R"({"Items":[{"a":{"BOOL":tru}}]})",               // not a literal
      R"({"Items":[{"a":{"BOOL":truex}}]})",             // not a literal
      R"({"Items":[{"a":{"S" "x"}}]})",                  // missing ':'
      R"({"Items":[{"a":{"S":"x",}}]})",                 // dangling ','
      R"({"Items":[{"a":{"S":"x" "y"}}]})",              // two values
      R"({"Items":[{"a":{"N":"1"]}]})",                  // mismatched bracket
  };
  for (const std::string& original : bodies) {
    PageTranscoder transcoder(OutputFormat::kJsonl);
    std::string body = original;
    std::string out = "kept\n";
    auto result = transcoder.transcode(body, out);
    ASSERT_FALSE(result.ok()) << original.substr(0, 80);
    EXPECT_EQ(result.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(result.error().code, "MalformedScanResponse");
    EXPECT_LT(result.error().message.size(), 200u) << result.error().message;
    EXPECT_EQ(out, "kept\n");
  }
}

TEST(TranscodeMalformed, ExcerptPointsNearTheFault) {
  PageTranscoder transcoder(OutputFormat::kJsonl);
  std::string body = page_of({R"({"a":{"S":"fine"}})", R"({"a":{"Q":"oops"}})"});
  std::string out;
  auto result = transcoder.transcode(body, out);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("unexpected type descriptor"), std::string::npos);
  EXPECT_NE(result.error().message.find("\"Q\":\"oops\""), std::string::npos) << result.error().message;
}

TEST(TranscodeMalformed, DynamoDbJsonRejectsBrokenStructure) {
  for (std::string body : {std::string(R"({"Items":[{"a":{"S":"x"}])"), std::string(R"({"Items":["x"]})"),
                           std::string(R"({"Items":[{"a":{"S":"x"}}]}})")}) {
    PageTranscoder transcoder(OutputFormat::kDynamoDbJson);
    std::string out;
    auto result = transcoder.transcode(body, out);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.error().code, "MalformedScanResponse");
    EXPECT_EQ(out, "");
  }
}

// --- pages that cannot be read whole ----------------------------------------------------------

const char* format_name(OutputFormat format) {
  return format == OutputFormat::kJsonl ? "jsonl" : "dynamodb-json";
}

// Expects `body` refused as malformed in `format`, with out left as it was.
void expect_malformed(const std::string& body, OutputFormat format) {
  PageTranscoder transcoder(format);
  std::string copy = body;
  std::string out = "kept\n";
  auto result = transcoder.transcode(copy, out);
  if (result.ok()) {
    ADD_FAILURE() << format_name(format) << " accepted " << body << "\n  giving " << out.substr(5)
                  << "  LastEvaluatedKey " << result->last_evaluated_key;
    return;
  }
  EXPECT_EQ(result.error().code, "MalformedScanResponse") << format_name(format) << ": " << body;
  EXPECT_EQ(out, "kept\n") << format_name(format) << ": " << body;
}

void expect_malformed_in_both_formats(const std::string& body) {
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson})
    expect_malformed(body, format);
}

TEST(TranscodeMalformed, JunkAfterASetElementIsRejectedNotSkipped) {
  // A set element read but left in place was skipped by bracket counting, which took a string
  // followed by ':' for a key and swallowed what came after it unread, one closing bracket with
  // it: the first page gave {"x":["a","d"]} in jsonl.
  const std::vector<std::string> items = {
      R"({"x":{"SS":["a":{}},"d"]}})",     R"({"x":{"SS":["a":"junk"],"d"]}})",
      R"({"x":{"SS":["a":1]]}})",          R"({"x":{"SS":["a":{"S":"b"}}]}})",
      R"({"x":{"NS":["1":{}},"2"]}})",     R"({"x":{"BS":["AQ==":[]],"Ag=="]}})",
      R"({"x":{"L":[{"SS":["a":{}}]}]}})", R"({"x":{"M":{"k":{"NS":["1":{}}]}}}})",
  };
  for (const std::string& item : items) {
    expect_malformed_in_both_formats(page_of({item}));
    expect_malformed_in_both_formats(page_of({item, R"({"y":{"S":"z"}})"}));
    expect_malformed_in_both_formats(page_of({R"({"y":{"S":"z"}})", item}));
  }
}

TEST(TranscodeMalformed, MalformedSetsAndItemsAreRejectedInJsonl) {
  // The same family with brackets that balance. dynamodb-json copies an item's bytes without
  // checking the grammar inside it (transcode.h), so these are jsonl's alone.
  const std::vector<std::string> items = {
      R"({"x":{"SS":["a":{},"d"]}})",                  // the page of the first test, without its extra '}'
      R"({"x":{"SS":["a" junk,"d"]}})",                // junk after an element
      R"({"x":{"SS":["a" "b"]}})",                     // a missing comma
      R"({"x":{"SS":["a""b"]}})",                      // a missing comma
      R"({"x":{"SS":["a",]}})",                        // a dangling comma
      R"({"x":{"SS":[,"a"]}})",                        // a leading comma
      R"({"x":{"SS":["a",1]}})",                       // a non-string in SS
      R"({"x":{"SS":["a",true]}})",                    // a non-string in SS
      R"({"x":{"SS":["a",null]}})",                    // a non-string in SS
      R"({"x":{"SS":["a",["b"]]}})",                   // a non-string in SS
      R"({"x":{"SS":["a",{"S":"b"}]}})",               // a non-string in SS
      R"({"x":{"BS":["AQ==",7]}})",                    // a non-string in BS
      R"({"x":{"SS":["bad \q escape"]}})",             // an invalid escape in SS
      R"({"x":{"NS":[{"N":"2"}]}})",                   // an object inside NS
      R"({"x":{"NS":["1",{}]}})",                      // an object inside NS
      R"({"x":{"NS":["1",2]}})",                       // a bare number in NS
      R"({"x":{"NS":["1":{},"2"]}})",                  // junk after an NS element
      R"({"x":{"NS":["1" "2"]}})",                     // a missing comma in NS
      R"({"x":{"NS":["12abc"]}})",                     // not a number
      R"({"x":{"NS":["+1"]}})",                        // not a number as DynamoDB sends them (the N rule)
      R"({"x":{"NS":["01"]}})",                        // not a number as DynamoDB sends them
      R"({"x":{"NS":["1."]}})",                        // not a number as DynamoDB sends them
      R"({"x":{"NS":[""]}})",                          // an empty number
      R"({"x":{"NS":[" 1"]}})",                        // a space in a number
      R"({"x":{"L":[{"S":"a"} {"S":"b"}]}})",          // a missing comma in L
      R"({"x":{"L":[{"S":"a"}:{},{"S":"b"}]}})",       // junk after an L element
      R"({"x":{"L":["a"]}})",                          // an untyped L element
      R"({"x":{"M":{"k":{"S":"v"} "j":{"S":"w"}}}})",  // a missing comma in M
      R"({"x":{"M":{"k":{"S":"v"}}:{}}})",             // junk after M
      R"({"x":{"S":"a"} "y":{"S":"z"}})",              // a missing comma between attributes
      R"({"x":{"S":"a"},})",                           // a dangling comma after an attribute
      R"({"x":{"SS":["a"]}:{}})",                      // junk after a set
      R"({"x":{"BOOL":true}:{}})",                     // junk after a scalar
      R"({"x":{"NULL":true,}})",                       // a dangling comma in a scalar
      R"({"x":{"S":"a"]})",                            // a mismatched bracket
  };
  for (const std::string& item : items) {
    expect_malformed(page_of({item}), OutputFormat::kJsonl);
    expect_malformed(page_of({item, R"({"y":{"S":"z"}})"}), OutputFormat::kJsonl);
  }
}

TEST(TranscodeMalformed, TrailingJunkAfterAnItemIsRejectedInBothFormats) {
  for (const std::string junk : {" junk", "x", "}", "]", ":{}", " \"z\"", " {}", " []", " 1", ",", ",]"}) {
    expect_malformed_in_both_formats(R"({"Count":1,"Items":[{"x":{"SS":["a","d"]}})" + junk + "]}");
    expect_malformed_in_both_formats(R"({"Items":[{"x":{"S":"a"}})" + junk + R"(,{"y":{"N":"1"}}]})");
  }
}

TEST(TranscodeMalformed, EveryTruncationOfAPageIsRejectedInBothFormats) {
  const std::string body = page_of(
      {R"({"a":{"S":"x \"y\" \u00e9"},"s":{"SS":["p","q"]},"n":{"NS":["1","-2.5E3"]},"b":{"BS":["AQ=="]},)"
       R"("l":{"L":[{"M":{"k":{"BOOL":true}}},{"N":"7"}]},"z":{"NULL":true}})",
       R"({"b":{"B":"AQID"}})"},
      R"(,"LastEvaluatedKey":{"pk":{"S":"k"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5})");
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
    EXPECT_EQ(transcode_ok(body, format).lines.size(), 2u) << format_name(format);
  }
  for (size_t n = 0; n < body.size(); ++n) expect_malformed_in_both_formats(body.substr(0, n));
}

TEST(TranscodeMalformed, FieldsBesideTheItemsAreReadWholeInBothFormats) {
  // Fields the page does not use and LastEvaluatedKey were skipped by bracket counting too: a
  // string followed by ':' swallowed the fields after it (the first two pages gave no line and
  // no error), and a malformed key was kept, to be sent back to DynamoDB as ExclusiveStartKey.
  const std::string item = R"([{"x":{"S":"y"}}])";
  const std::vector<std::string> bodies = {
      R"({"ConsumedCapacity":"a":{},"Items":)" + item + R"(,"Count":1}})",
      R"({"Count":1,"Foo":"a":[],"Items":)" + item + "]}",
      R"({"Items":[],"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5 junk}})",
      R"({"Items":[],"ConsumedCapacity":{"TableName":"t" "CapacityUnits":1}})",
      R"({"Items":[],"ConsumedCapacity":{"Table":{"CapacityUnits":1]}})",
      R"({"Items":[],"ConsumedCapacity":{"CapacityUnits":.5}})",
      R"({"Items":[],"ConsumedCapacity":{"CapacityUnits":1x}})",
      R"({"Items":[],"ConsumedCapacity":[1,,2]})",
      R"({"Items":[],"ConsumedCapacity":nul})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"S":"a"} junk}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"S":"a"},}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"S":"a"]}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"S":"a"}"sk":{"N":"1"}}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":"a"}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"N":"x1"}}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"X":"a"}}})",
      R"({"Items":)" + item + R"(,"LastEvaluatedKey":{"pk":{"S":"a"}}:{}})",
  };
  for (const std::string& body : bodies) expect_malformed_in_both_formats(body);
}

// The raw copy of dynamodb-json once checked only that brackets balance (a fuzz finding:
// tests/fuzz/findings/README.md, transcode-dynamodb-json-raw-copy): '{]' passed as an item and the
// line was not JSON. Every item's grammar is checked now, as jsonl checks it.
TEST(TranscodeMalformed, GrammarInsideAnItemIsCheckedInBothFormats) {
  for (const char* body : {R"({"Items":[{]]})", R"({"Items":[{"a":{"S":"x"]}]})", R"({"Items":[{"a":["x"}}]})",
                           R"({"Items":[{"a" "b"}]})", R"({"Items":[{"a":{"S" "x"}}]})",
                           R"({"Items":[{"a":{"S":"x",}}]})", R"({"Items":[{"a":{"S":"x"} "b":{"S":"y"}}]})",
                           R"({"Items":[{"a":{"S":"\q"}}]})", R"({"Items":[{"a":{"S":"\u12G4"}}]})",
                           R"({"Items":[{"a":{"N":1x}}]})", R"({"Items":[{"a":{"BOOL":tru}}]})"}) {
    SCOPED_TRACE(body);
    expect_malformed_in_both_formats(body);
  }
}

TEST(TranscodePage, WellFormedSetsAndFieldsAreUnchangedByTheChecks) {
  // Whitespace around set elements, every JSON type in the fields the page does not use, and a
  // spaced LastEvaluatedKey (kept compact).
  const std::string body =
      "{\"Items\":[{\"s\":{\"SS\":[ \"a\" ,\n\"d\" ]},\"n\":{\"NS\":[ \"1\" , \"-2.5e+3\"\t]},"
      "\"b\":{\"BS\":[\"AQ==\" ]},\"e\":{\"SS\":[ ]}}],"
      "\"ConsumedCapacity\":{\"TableName\":\"t\",\"CapacityUnits\":0.5,\"Table\":{\"CapacityUnits\":-1E3},"
      "\"X\":[true,false,null,\"s\\\"q\",[],{},0]},"
      "\"LastEvaluatedKey\" : { \"pk\" : { \"S\" : \"a b\" } , \"sk\" : {\"N\":\"1\"} } ,\"Count\":1}";
  Transcoded jsonl = transcode_ok(body);
  EXPECT_EQ(jsonl.lines,
            (std::vector<std::string>{R"({"s":["a","d"],"n":[1,-2.5e+3],"b":["AQ=="],"e":[]})"}));
  EXPECT_EQ(jsonl.info.last_evaluated_key, R"({"pk":{"S":"a b"},"sk":{"N":"1"}})");
  EXPECT_EQ(jsonl.info.count, 1u);
  Transcoded ddb = transcode_ok(body, OutputFormat::kDynamoDbJson);
  EXPECT_EQ(ddb.lines, (std::vector<std::string>{
                           R"({"Item":{"s":{"SS":["a","d"]},"n":{"NS":["1","-2.5e+3"]},"b":{"BS":["AQ=="]},)"
                           R"("e":{"SS":[]}}})"}));
  EXPECT_EQ(ddb.info.last_evaluated_key, jsonl.info.last_evaluated_key);
}

// --- synthetic pages --------------------------------------------------------------------------

// One attribute value, rendered both as DynamoDB's typed JSON and as the expected plain JSON.
struct Rendered {
  std::string typed;
  std::string plain;
};

class ItemGenerator {
 public:
  explicit ItemGenerator(uint32_t seed) : rng_(seed) {}

  Rendered item() {
    Rendered r{"{", "{"};
    const int n = pick(0, 12);
    for (int i = 0; i < n; ++i) {
      const std::string name = text(1, 12) + "#" + std::to_string(i);  // distinct names
      Rendered v = value(0);
      if (i) {
        r.typed += ',';
        r.plain += ',';
      }
      r.typed += typed_quote(name) + ":" + v.typed;
      r.plain += quote(name) + ":" + v.plain;
    }
    r.typed += '}';
    r.plain += '}';
    return r;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  // Random text drawn from ASCII, quotes, backslashes, controls and multi-byte characters.
  std::string text(int lo, int hi) {
    static const std::vector<std::string> kPieces = {
        "a",    "Z",    "0", " ",  "-", "/",    "\"", "\\", "\n",           "\t",
        "\x01", "\x1f", "é", "日", "😀", "\x7f", "x",  "y",  "long-ish run "};
    std::string s;
    const int n = pick(lo, hi);
    for (int i = 0; i < n; ++i)
      s += kPieces[static_cast<size_t>(pick(0, static_cast<int>(kPieces.size()) - 1))];
    return s;
  }

  // Quotes as JSON may arrive: sometimes with \uXXXX escapes for non-ASCII and "\/" for '/'.
  std::string typed_quote(std::string_view s) {
    if (pick(0, 3) != 0) return quote(s);
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '/') {
        out += "\\/";
        ++i;
      } else if (c >= 0x80) {
        const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
        for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        char buf[16];
        if (cp >= 0x10000) {
          cp -= 0x10000;
          std::snprintf(buf, sizeof buf, "\\u%04X\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
        } else {
          std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        }
        out += buf;
        i += static_cast<size_t>(len);
      } else {
        out += quote(s.substr(i, 1)).substr(1, quote(s.substr(i, 1)).size() - 2);
        ++i;
      }
    }
    return out + "\"";
  }

  std::string number() {
    static const std::vector<std::string> kForms = {
        "0",    "-1",       "42",   "12345678901234567890123456789012345678", "1E-130", "-0.5", "1e+5",
        "3.25", "9.9E+125", "-17E3"};
    return kForms[static_cast<size_t>(pick(0, static_cast<int>(kForms.size()) - 1))];
  }

  std::string base64() { return std::string("QUJD") + (pick(0, 1) ? "RA==" : "REVG"); }

  Rendered value(int depth) {
    const int kind = pick(0, depth < 4 ? 9 : 7);
    switch (kind) {
      case 0: {
        const std::string s = text(0, 30);
        return {R"({"S":)" + typed_quote(s) + "}", quote(s)};
      }
      case 1: {
        const std::string n = number();
        return {R"({"N":")" + n + "\"}", n};
      }
      case 2: {
        const std::string b = base64();
        return {R"({"B":")" + b + "\"}", "\"" + b + "\""};
      }
      case 3: {
        const bool b = pick(0, 1) == 1;
        return {std::string(R"({"BOOL":)") + (b ? "true}" : "false}"), b ? "true" : "false"};
      }
      case 4:
        return {R"({"NULL":true})", "null"};
      case 5:
      case 6:
      case 7: {
        const char* tag = kind == 5 ? "SS" : kind == 6 ? "NS" : "BS";
        Rendered r{std::string("{\"") + tag + "\":[", "["};
        const int n = pick(0, 4);
        for (int i = 0; i < n; ++i) {
          const std::string sep = i ? "," : "";
          if (kind == 5) {
            const std::string s = text(0, 8);
            r.typed += sep + typed_quote(s);
            r.plain += sep + quote(s);
          } else if (kind == 6) {
            const std::string num = number();
            r.typed += sep + "\"" + num + "\"";
            r.plain += sep + num;
          } else {
            const std::string b = base64();
            r.typed += sep + "\"" + b + "\"";
            r.plain += sep + "\"" + b + "\"";
          }
        }
        r.typed += "]}";
        r.plain += "]";
        return r;
      }
      case 8: {
        Rendered r{R"({"L":[)", "["};
        const int n = pick(0, 3);
        for (int i = 0; i < n; ++i) {
          Rendered v = value(depth + 1);
          r.typed += (i ? "," : "") + v.typed;
          r.plain += (i ? "," : "") + v.plain;
        }
        r.typed += "]}";
        r.plain += "]";
        return r;
      }
      default: {
        Rendered r{R"({"M":{)", "{"};
        const int n = pick(0, 3);
        for (int i = 0; i < n; ++i) {
          const std::string name = text(0, 6) + std::to_string(i);
          Rendered v = value(depth + 1);
          r.typed += (i ? "," : "") + typed_quote(name) + ":" + v.typed;
          r.plain += (i ? "," : "") + quote(name) + ":" + v.plain;
        }
        r.typed += "}}";
        r.plain += "}";
        return r;
      }
    }
  }

  std::mt19937 rng_;
};

TEST(TranscodeSynthetic, ThousandsOfRandomItemsMatchTheirExpectedLines) {
  ItemGenerator generator(20240611);
  PageTranscoder jsonl(OutputFormat::kJsonl);
  PageTranscoder ddb(OutputFormat::kDynamoDbJson);
  std::string jsonl_out;
  std::string ddb_out;
  std::vector<std::string> expected_plain;
  std::vector<std::string> expected_typed;
  size_t total = 0;
  for (int p = 0; p < 8; ++p) {
    std::vector<std::string> typed;
    const size_t n = 300 + static_cast<size_t>(p) * 97;
    for (size_t i = 0; i < n; ++i) {
      Rendered r = generator.item();
      typed.push_back(r.typed);
      expected_typed.push_back("{\"Item\":" + r.typed + "}");
      expected_plain.push_back(std::move(r.plain));
    }
    const std::string lek = p < 7 ? R"(,"LastEvaluatedKey":{"pk":{"S":"p)" + std::to_string(p) + "\"}}" : "";
    std::string body = page_of(typed, lek);
    std::string body2 = body;
    auto a = jsonl.transcode(body, jsonl_out);
    auto b = ddb.transcode(body2, ddb_out);
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    EXPECT_EQ(a->count, n);
    EXPECT_EQ(a->items, n);
    EXPECT_EQ(a->scanned_count, n + 1);
    EXPECT_EQ(b->items, n);
    EXPECT_EQ(a->last_evaluated_key, b->last_evaluated_key);
    EXPECT_EQ(a->last_evaluated_key.empty(), p == 7);
    total += n;
  }
  const std::vector<std::string> plain_lines = split_lines(jsonl_out);
  const std::vector<std::string> typed_lines = split_lines(ddb_out);
  ASSERT_EQ(plain_lines.size(), total);
  ASSERT_EQ(typed_lines.size(), total);
  EXPECT_GT(total, 3000u);
  for (size_t i = 0; i < total; ++i) {
    ASSERT_EQ(plain_lines[i], expected_plain[i]) << "item " << i;
    ASSERT_EQ(reparse(plain_lines[i]), plain_lines[i]) << "item " << i;
    ASSERT_EQ(typed_lines[i], expected_typed[i]) << "item " << i;
  }
}

}  // namespace
}  // namespace ddb2s3

// The command line's own parsing (cli/args): --values marshalled like boto3, --names, --scan-kwargs with its
// range checks and "given twice", and the library's errors put in flag words. No server is needed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/args.h"

namespace ddb2s3::cli {
namespace {

std::string usage_message(const Result<std::string>& r) {
  EXPECT_FALSE(r);
  if (r) return {};
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  return r.error().message;
}

TEST(PlainValues, MarshalLikeBoto3KeepingEveryDigit) {
  auto typed = marshal_plain_values(
      R"({":n": 12345678901234567890123456789012345678, ":f": -1.50e-3, ":s": "x\u00e9", ":b": true,)"
      R"( ":z": null, ":l": [1, "a"], ":m": {"k": false}})");
  ASSERT_TRUE(typed) << typed.error().message;
  EXPECT_EQ(
      *typed,
      R"({":n":{"N":"12345678901234567890123456789012345678"},":f":{"N":"-1.50e-3"},":s":{"S":"x)"
      "\xC3\xA9"
      R"("},":b":{"BOOL":true},":z":{"NULL":true},":l":{"L":[{"N":"1"},{"S":"a"}]},":m":{"M":{"k":{"BOOL":false}}}})");
}

TEST(PlainValues, BareWordsAreUsageErrorsNotAborts) {
  // Any bare token beginning with n that is not null aborted the program (an uncaught simdjson_error).
  for (const char* json : {R"({":x": nan})", R"({":x": n})", R"({":x": nul})", R"({":x": [nan]})",
                           R"({":x": {"a": nope}})", R"({":x": NaN})", R"({":x": Infinity})"}) {
    SCOPED_TRACE(json);
    const std::string m = usage_message(marshal_plain_values(json));
    EXPECT_EQ(m.rfind("--values is not valid JSON: ", 0), 0u) << m;
    EXPECT_NE(m.find("is not a JSON value"), std::string::npos) << m;
  }
}

TEST(PlainValues, NumbersFollowJsonsGrammar) {
  // Each was copied into the request as its raw token, making the body invalid JSON.
  for (const char* number : {"1\\", "1x", "-", "01", "1.", ".5", "+5", "1e", "0x1F", "1\x01", "1.5.5"}) {
    SCOPED_TRACE(number);
    const std::string m = usage_message(marshal_plain_values(std::string(R"({":a": )") + number + "}"));
    EXPECT_NE(m.find("at byte 8"), std::string::npos) << m;
  }
}

TEST(PlainValues, TextAfterTheObjectIsAnError) {
  const std::string m = usage_message(marshal_plain_values(R"({":a":5} xyz)"));
  EXPECT_EQ(m, "--values is not valid JSON: unexpected text after the JSON value at byte 10 (at 'xyz')");
  EXPECT_FALSE(marshal_plain_values(R"({":a":5}})"));
  EXPECT_FALSE(marshal_plain_values(R"({":a":5,":a":6})"));  // which one would DynamoDB see?
  EXPECT_NE(usage_message(marshal_plain_values("[5]")).find("--values must be a JSON object"),
            std::string::npos);
}

TEST(AttributeNames, MustBeAnObjectOfStrings) {
  auto ok = attribute_names(R"( {"#s": "status", "#n": "name"} )");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, R"({"#s": "status", "#n": "name"})");
  EXPECT_EQ(usage_message(attribute_names(R"({"#s": 5})")),
            "--names: '#s' must be a string (an attribute name), not the number 5");
  EXPECT_NE(usage_message(attribute_names(R"(["status"])")).find("--names must be a JSON object of strings"),
            std::string::npos);
  EXPECT_NE(usage_message(attribute_names(R"({"#s": "status"} x)")).find("unexpected text"),
            std::string::npos);
  EXPECT_NE(usage_message(attribute_names(R"({"#s": {"a": "b"}})")).find("not an object"), std::string::npos);
}

Status kwargs(std::string_view json, ScanOptions& o, const GivenFlags& flags = {}) {
  return apply_scan_kwargs(json, flags, o);
}

std::string kwargs_error(std::string_view json, const GivenFlags& flags = {}) {
  ScanOptions o;
  o.table = "t";
  Status s = kwargs(json, o, flags);
  EXPECT_FALSE(s) << json;
  if (s) return {};
  EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
  return s.error().message;
}

TEST(ScanKwargs, KnownFieldsGoToTheirPlacesTheRestAsWritten) {
  ScanOptions o;
  o.table = "t";
  ASSERT_TRUE(
      kwargs(R"({"TableName": "t", "FilterExpression": "#a > :v", "ExpressionAttributeNames": {"#a": "a"},)"
             R"( "ExpressionAttributeValues": {":v": {"N": "1.50"}}, "Limit": 2147483647, "Segment": 2,)"
             R"( "TotalSegments": 1000000, "ConsistentRead": true,)"
             R"( "ScanFilter": {"n": {"AttributeValueList": [{"N": "0050"}], "ComparisonOperator": "GE"}}})",
             o));
  EXPECT_EQ(o.request.filter_expression, "#a > :v");
  EXPECT_EQ(o.request.expression_attribute_names_json, R"({"#a": "a"})");
  EXPECT_EQ(o.request.expression_attribute_values_json, R"({":v": {"N": "1.50"}})");
  EXPECT_EQ(*o.request.limit, 2147483647);
  EXPECT_EQ(*o.segment, 2);
  EXPECT_EQ(o.total_segments, 1000000);
  EXPECT_TRUE(*o.request.consistent_read);
  EXPECT_EQ(o.request.extra_json,
            R"({"ScanFilter":{"n": {"AttributeValueList": [{"N": "0050"}], "ComparisonOperator": "GE"}}})");
}

TEST(ScanKwargs, IntegersAreRangeCheckedNamingTheField) {
  // TotalSegments 4294967297 was narrowed to int and ran as 1 segment.
  EXPECT_EQ(kwargs_error(R"({"TotalSegments": 4294967297})"),
            "--scan-kwargs: TotalSegments must be an integer from 1 to 1000000, not '4294967297'");
  EXPECT_NE(
      kwargs_error(R"({"TotalSegments": 0})").find("TotalSegments must be an integer from 1 to 1000000"),
      std::string::npos);
  EXPECT_NE(kwargs_error(R"({"TotalSegments": 1000001})").find("TotalSegments"), std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Segment": -1})").find("Segment must be an integer from 0 to 999999, not '-1'"),
            std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Segment": 4294967296, "TotalSegments": 2})").find("Segment must be"),
            std::string::npos);
  EXPECT_EQ(kwargs_error(R"({"Segment": 3, "TotalSegments": 3})"),
            "--scan-kwargs: Segment must be from 0 to TotalSegments - 1 (2), not 3");
  EXPECT_EQ(kwargs_error(R"({"Segment": 1})"),
            "--scan-kwargs: Segment must be from 0 to --total-segments - 1 (0), not 1");
  EXPECT_EQ(kwargs_error(R"({"Limit": 0})"),
            "--scan-kwargs: Limit must be an integer from 1 to 2147483647, not '0'");
  EXPECT_NE(kwargs_error(R"({"Limit": 2147483648})").find("Limit must be an integer from 1 to 2147483647"),
            std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Limit": 5.0})").find("not '5.0'"), std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Limit": "5"})").find("not a string"), std::string::npos);
}

TEST(ScanKwargs, ParseErrorsSayWhatAndWhere) {
  // Before: only "must be a JSON object".
  EXPECT_EQ(
      kwargs_error(R"({"Limit": 5,)"),
      "--scan-kwargs is not valid JSON: expected a member name in double quotes at byte 13 (the text ends "
      "after '{\"Limit\": 5,')");
  EXPECT_NE(kwargs_error(R"({"Limit": 5} x)").find("unexpected text after the JSON value at byte 14"),
            std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Extra": nan})").find("'nan' is not a JSON value"), std::string::npos);
  EXPECT_NE(kwargs_error(R"({"Extra": 1x})").find("'1x' is not a JSON number"), std::string::npos);
  EXPECT_NE(kwargs_error("[1]").find("--scan-kwargs must be a JSON object of Scan fields"),
            std::string::npos);
  EXPECT_NE(kwargs_error(R"({"ExpressionAttributeNames": {"#a": 1}})")
                .find("--scan-kwargs: ExpressionAttributeNames: '#a' must be a string"),
            std::string::npos);
  EXPECT_NE(kwargs_error(R"({"TableName": "other"})").find("names table 'other'"), std::string::npos);
}

TEST(ScanKwargs, AFieldAFlagGaveIsGivenTwice) {
  GivenFlags flags;
  flags.add("Limit", "--page-size");
  EXPECT_EQ(kwargs_error(R"({"Limit": 5})", flags),
            "Limit is given twice: by --page-size and in --scan-kwargs; keep one");
}

const std::vector<FlagName> kNames = {
    {"--segment", "segment", "Segment"},
    {"--total-segments", "total_segments", "TotalSegments"},
    {"--run-id", "run_id", ""},
    {"--incremental", "export_type INCREMENTAL_EXPORT", ""},
    {"--incremental", "export_type", "ExportType"},
    {"--page-size", "", "Limit"},
};

TEST(InFlagWords, OptionNamesBecomeFlagsInErrorsWhoseFieldIsKnown) {
  Error e = Error::usage("segment must be from 0 to total_segments - 1 (2), not 3");
  e.field = "segment";
  e.hint = "or give total_segments more";
  Error out = in_flag_words(e, kNames);
  EXPECT_EQ(out.message, "--segment must be from 0 to --total-segments - 1 (2), not 3");
  EXPECT_EQ(out.hint, "or give --total-segments more");
  EXPECT_EQ(out.field, "segment");

  // Whole words only; what the user gave ('...') is kept; an apostrophe does not open a quote.
  Error q = Error::usage(
      "run_id 'segment run_id' is bad: DynamoDB's segment, segments, segment_x, x_segment, segment.");
  q.field = "run_id";
  EXPECT_EQ(
      in_flag_words(q, kNames).message,
      "--run-id 'segment run_id' is bad: DynamoDB's --segment, segments, segment_x, x_segment, --segment.");

  // A phrase before its first word.
  Error p = Error::usage(
      "for incremental exports: use export_type INCREMENTAL_EXPORT (export_type is FULL_EXPORT)");
  p.field = "export_type";
  EXPECT_EQ(in_flag_words(p, kNames).message,
            "for incremental exports: use --incremental (--incremental is FULL_EXPORT)");

  // A field known by its AWS name also counts.
  Error aws = Error::usage("Limit must be from 1 to 2147483647 (segment)");
  aws.field = "Limit";
  EXPECT_EQ(in_flag_words(aws, kNames).message, "Limit must be from 1 to 2147483647 (--segment)");
}

TEST(InFlagWords, ErrorsWithoutAKnownFieldAreLeftAlone) {
  Error none = Error::make(ErrorKind::kClient, "ValidationException", "segment is wrong");
  EXPECT_EQ(in_flag_words(none, kNames).message, "segment is wrong");
  Error other = Error::usage("segment is wrong");
  other.field = "part_size";
  EXPECT_EQ(in_flag_words(other, kNames).message, "segment is wrong");
  EXPECT_EQ(in_flag_words(other, {}).message, "segment is wrong");
}

}  // namespace
}  // namespace ddb2s3::cli

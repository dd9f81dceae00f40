// parse_iso8601's accepted and rejected forms, clamping to system_clock, and the two formatters.
#include <gtest/gtest.h>

#include <string>

#include "base/time.h"

namespace ddb2s3 {
namespace {

using namespace std::chrono;

int64_t epoch(std::string_view text, bool utc_when_no_zone = false) {
  auto t = parse_iso8601(text, utc_when_no_zone);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? t->seconds.time_since_epoch().count() : -1;
}

std::string why(std::string_view text, bool utc_when_no_zone = false) {
  auto t = parse_iso8601(text, utc_when_no_zone);
  EXPECT_FALSE(t.ok()) << text;
  if (t.ok()) return {};
  EXPECT_EQ(t.error().kind, ErrorKind::kUsage) << text;
  return t.error().message;
}

TEST(BaseTime, AcceptsWhatAwsAnswersAndUsersType) {
  EXPECT_EQ(epoch("2024-05-01T12:00:00Z"), 1714564800);
  EXPECT_EQ(epoch("2024-05-01t12:00:00z"), 1714564800);
  EXPECT_EQ(epoch("2024-05-01 12:00:00Z"), 1714564800);
  EXPECT_EQ(epoch("2024-05-01T12:00Z"), 1714564800);       // seconds left out
  EXPECT_EQ(epoch("2024-05-01T12:00:00UTC"), 1714564800);  // as some SDK caches write expiresAt
  EXPECT_EQ(epoch("2024-05-01T14:00:00+02:00"), 1714564800);
  EXPECT_EQ(epoch("2024-05-01T07:30:00-0430"), 1714564800);
  EXPECT_EQ(epoch("2024-05-01T12:00:00+00:00"), 1714564800);
  EXPECT_EQ(epoch("2024-05-02T02:00:00+14:00"), 1714564800);
  EXPECT_EQ(epoch("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(epoch("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(epoch("2099-01-02T03:04:05Z"), 4071006245);
  EXPECT_EQ(epoch("2024-02-29T00:00:00Z"), 1709164800);                     // a leap day
  EXPECT_EQ(epoch("2016-12-31T23:59:60Z"), epoch("2017-01-01T00:00:00Z"));  // a leap second
}

TEST(BaseTime, FractionsOfASecond) {
  auto t = parse_iso8601("2024-05-01T12:00:00.250Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seconds.time_since_epoch().count(), 1714564800);
  EXPECT_EQ(t->fraction, milliseconds(250));
  EXPECT_EQ(parse_iso8601("2024-05-01T12:00:00,5Z")->fraction, milliseconds(500));
  EXPECT_EQ(parse_iso8601("2024-05-01T12:00:00.123456789Z")->fraction, nanoseconds(123456789));
  EXPECT_EQ(parse_iso8601("2024-05-01T12:00:00.1234567891234Z")->fraction, nanoseconds(123456789));
  EXPECT_EQ(parse_iso8601("2024-05-01T12:00:00.000001+01:00")->fraction, microseconds(1));
  EXPECT_EQ(parse_iso8601("2024-05-01T12:00:00Z")->fraction, nanoseconds(0));
}

TEST(BaseTime, WithoutAZoneOnlyWhenAskedForUtc) {
  EXPECT_NE(why("2024-05-01T12:00:00").find("no zone"), std::string::npos);
  EXPECT_EQ(epoch("2024-05-01T12:00:00", /*utc_when_no_zone=*/true), 1714564800);
  EXPECT_EQ(epoch("2024-05-01T12:00:00.5", true), 1714564800);
}

TEST(BaseTime, RejectsNonsenseSayingWhat) {
  EXPECT_EQ(why(""), "empty");
  EXPECT_EQ(why("2024-13-01T00:00:00Z"), "month 13 is not 01 to 12");
  EXPECT_EQ(why("2024-00-01T00:00:00Z"), "month 00 is not 01 to 12");
  EXPECT_EQ(why("2024-02-30T00:00:00Z"), "2024-02 has no day 30");
  EXPECT_EQ(why("2023-02-29T00:00:00Z"), "2023-02 has no day 29");
  EXPECT_EQ(why("2024-04-31T00:00:00Z"), "2024-04 has no day 31");
  EXPECT_EQ(why("2024-05-00T00:00:00Z"), "2024-05 has no day 00");
  EXPECT_EQ(why("2024-05-01T24:00:00Z"), "hour 24 is not 00 to 23");
  EXPECT_EQ(why("2024-05-01T12:60:00Z"), "minute 60 is not 00 to 59");
  EXPECT_EQ(why("2024-05-01T12:00:61Z"), "second 61 is not 00 to 60");
  EXPECT_EQ(why("2024-05-01"), "no time of day and zone");
  EXPECT_EQ(why("2024-05-01X12:00:00Z"), "expected 'T' after the date");
  EXPECT_EQ(why("2024-05-01T12:00:00Zjunk"), "unexpected text after the zone");
  EXPECT_EQ(why("2024-05-01T12:00:00+02:00junk"), "unexpected text after the zone");
  EXPECT_EQ(why("2024-05-01T12:00:00+2:00"), "bad zone offset");
  EXPECT_EQ(why("2024-05-01T12:00:00+24:00"), "bad zone offset");
  EXPECT_EQ(why("2024-05-01T12:00:00+02"), "bad zone offset");
  EXPECT_EQ(why("2024-05-01T12:00:00 UTC"), "bad zone: use Z or an offset such as +02:00");
  EXPECT_EQ(why("2024-05-01T12:00:00.Z"), "bad fraction of a second");
  for (const char* text : {"yesterday", "-5", "24-05-01T12:00:00Z", "2024-5-1T12:00:00Z",
                           " 2024-05-01T12:00:00Z", "2024/05/01T12:00:00Z", "+2024-05-01T12:00:00Z"})
    EXPECT_EQ(why(text), "expected YYYY-MM-DD") << text;
  for (const char* text : {"2024-05-01T1:00:00Z", "2024-05-01T12Z", "2024-05-01T12:0Z", "2024-05-01T"})
    EXPECT_EQ(why(text), "expected hh:mm[:ss]") << text;
  EXPECT_EQ(why("2024-05-01T12:00:5Z"), "bad seconds");
}

TEST(BaseTime, YearsUpTo9999AreExactInSeconds) {
  EXPECT_EQ(epoch("9999-12-31T23:59:59Z"), 253402300799);
  EXPECT_EQ(epoch("0000-01-01T00:00:00Z"), -62167219200);
  EXPECT_EQ(epoch("2262-04-11T23:47:16Z"), 9223372036);  // the last whole second of nanosecond clocks
}

TEST(BaseTime, ToSystemClockClampsInsteadOfOverflowing) {
  using TP = system_clock::time_point;
  EXPECT_EQ(to_system_clock(sys_seconds(seconds(1714564800))), TP(seconds(1714564800)));
  EXPECT_EQ(to_system_clock(sys_seconds(seconds(1714564800)), milliseconds(250)),
            TP(seconds(1714564800) + milliseconds(250)));
  EXPECT_EQ(to_system_clock(parse_iso8601("9999-12-31T23:59:59Z")->seconds), TP::max());
  EXPECT_EQ(to_system_clock(parse_iso8601("0000-01-01T00:00:00Z")->seconds), TP::min());
  EXPECT_EQ(to_system_clock(sys_seconds(seconds(INT64_MAX))), TP::max());
  EXPECT_EQ(to_system_clock(sys_seconds(seconds(INT64_MIN))), TP::min());
  // The last second that fits is kept as it is, fraction and all; the next one is clamped.
  const auto last = floor<seconds>(TP::max()) - seconds(1);
  EXPECT_EQ(to_system_clock(last, nanoseconds(999'999'999)), TP(last) + nanoseconds(999'999'999));
  EXPECT_EQ(to_system_clock(last + seconds(1)), TP::max());
  // A far-future expiry compares as the future, whatever now is.
  EXPECT_GT(to_system_clock(parse_iso8601("9999-12-31T23:59:59Z")->seconds),
            system_clock::now() + hours(24 * 365 * 100));
}

TEST(BaseTime, FormatsTheExtendedForm) {
  const sys_time<milliseconds> t{seconds(1714564800)};
  EXPECT_EQ(format_iso8601(t), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(format_iso8601(t + milliseconds(250)), "2024-05-01T12:00:00.250Z");
  EXPECT_EQ(format_iso8601(t, Millis::kIfAny), "2024-05-01T12:00:00Z");
  EXPECT_EQ(format_iso8601(t + milliseconds(7), Millis::kIfAny), "2024-05-01T12:00:00.007Z");
  EXPECT_EQ(format_iso8601(sys_time<milliseconds>{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(sys_time<milliseconds>{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(sys_time<milliseconds>{seconds(253402300799)} + milliseconds(999)),
            "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(sys_time<milliseconds>{seconds(-62167219200)}), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(floor<milliseconds>(system_clock::time_point::max())).substr(0, 4), "2262");
}

TEST(BaseTime, FormatsTheBasicForm) {
  EXPECT_EQ(format_iso8601_basic(sys_seconds(seconds(1440938160))), "20150830T123600Z");
  EXPECT_EQ(format_iso8601_basic(sys_seconds(seconds(1709251199))), "20240229T235959Z");
  EXPECT_EQ(format_iso8601_basic(sys_seconds(seconds(0))), "19700101T000000Z");
  EXPECT_EQ(format_iso8601_basic(sys_seconds(seconds(253402300799))), "99991231T235959Z");
}

TEST(BaseTime, FormatAndParseAgree) {
  for (int64_t s :
       {int64_t{0}, int64_t{951782400}, int64_t{1714564800}, int64_t{4071006245}, int64_t{-86400 * 365}}) {
    const sys_time<milliseconds> t{seconds(s) + milliseconds(s % 1000 < 0 ? -(s % 1000) : s % 1000)};
    auto back = parse_iso8601(format_iso8601(t));
    ASSERT_TRUE(back.ok()) << format_iso8601(t);
    EXPECT_EQ(back->seconds + duration_cast<milliseconds>(back->fraction), t) << format_iso8601(t);
  }
}

}  // namespace
}  // namespace ddb2s3

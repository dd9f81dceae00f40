// ISO 8601 times: one parser (what AWS answers and users type) and the formatters, in int64 seconds and
// civil-date arithmetic, so that any year 0000-9999 is read and written without time_t or overflow.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddb2s3 {

struct Iso8601Time {
  std::chrono::sys_seconds seconds;      // whole seconds since 1970-01-01T00:00:00Z
  std::chrono::nanoseconds fraction{0};  // of the next second, in [0, 1s)
};

// YYYY-MM-DD{T|t|space}hh:mm[:ss[{.|,}digits]]{Z|z|UTC|+hh:mm|-hh:mm|+hhmm|-hhmm}, e.g.
// 2024-05-01T12:00:00Z, 2024-05-01T14:00:00.250+02:00, 2024-05-01 12:00Z. Without a zone the text is an
// error unless utc_when_no_zone. Every field is range-checked (month 01-12, a day the month has, hour
// 00-23, minute 00-59, second 00-60: a leap second reads as the next minute's first); fraction digits past
// nanoseconds are ignored. An error is kUsage, its message saying what is wrong (callers add the text).
Result<Iso8601Time> parse_iso8601(std::string_view text, bool utc_when_no_zone = false);

// A time as std::chrono::system_clock holds it, clamped to the range of its time_point (about years 1678 to
// 2262 with nanosecond ticks): an expiry in 9999 becomes time_point::max(), "not before the end of time".
std::chrono::system_clock::time_point to_system_clock(std::chrono::sys_seconds t,
                                                      std::chrono::nanoseconds fraction = {});

enum class Millis {
  kAlways,  // 2024-05-01T12:00:00.000Z
  kIfAny,   // 2024-05-01T12:00:00Z, but 2024-05-01T12:00:00.250Z
};
// The extended form in UTC: "2026-11-26T15:30:00.123Z".
std::string format_iso8601(std::chrono::sys_time<std::chrono::milliseconds> t,
                           Millis millis = Millis::kAlways);
// The basic form in UTC, whole seconds: "20261126T153000Z" (SigV4's X-Amz-Date, run ids).
std::string format_iso8601_basic(std::chrono::sys_seconds t);

}  // namespace ddb2s3

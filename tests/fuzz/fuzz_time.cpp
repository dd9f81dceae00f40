// parse_iso8601 (src/base/time.h) on any text; the first byte picks utc_when_no_zone (bit 0).
//
// Properties of an accepted time: its fraction is in [0, 1s); within years 0001-9999 it formats
// (format_iso8601, milliseconds) to a text that parses back to the same second and millisecond;
// to_system_clock does not overflow (UBSan would say so).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/time.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace std::chrono;
  if (size < 1) return 0;
  const bool utc = data[0] & 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto t = ddb2s3::parse_iso8601(text, utc);
  if (!t) {
    if (t.error().message.empty()) ddb2s3::fuzz::property_failed("an error without a message", text);
    return 0;
  }
  if (t->fraction < nanoseconds(0) || t->fraction >= seconds(1))
    ddb2s3::fuzz::property_failed("fraction outside [0, 1s)", text);
  (void)ddb2s3::to_system_clock(t->seconds, t->fraction);

  constexpr sys_days kFirst = sys_days(year(1) / January / 1);
  constexpr sys_days kEnd = sys_days(year(10000) / January / 1);
  if (t->seconds < kFirst || t->seconds >= kEnd) return 0;
  const auto ms = time_point_cast<milliseconds>(t->seconds) + duration_cast<milliseconds>(t->fraction);
  const std::string formatted = ddb2s3::format_iso8601(ms);
  auto again = ddb2s3::parse_iso8601(formatted);
  if (!again) ddb2s3::fuzz::property_failed("format_iso8601's text does not parse", text);
  const auto ms_again = time_point_cast<milliseconds>(again->seconds) + duration_cast<milliseconds>(again->fraction);
  if (ms_again != ms) ddb2s3::fuzz::property_failed("format then parse gives another time", text);
  (void)ddb2s3::format_iso8601_basic(t->seconds);
  return 0;
}

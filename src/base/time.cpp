#include "base/time.h"

#include <cstdio>

namespace ddb2s3 {
namespace {

using namespace std::chrono;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at text[pos...]; -1 when they are not there.
int digits(std::string_view text, size_t& pos, size_t n) {
  if (pos + n > text.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit(text[pos + i])) return -1;
    v = v * 10 + (text[pos + i] - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

Error bad(std::string why) { return Error::usage(std::move(why)); }

// Writes v as n digits (zero-padded) at p.
char* put_digits(char* p, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  return p + n;
}

struct Civil {
  int year;
  unsigned month, day, hour, minute, second;
};

Civil civil(sys_seconds t) {
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          static_cast<unsigned>(hms.hours().count()),
          static_cast<unsigned>(hms.minutes().count()),
          static_cast<unsigned>(hms.seconds().count())};
}

char* put_year(char* p, int year) {
  if (year >= 0 && year <= 9999) return put_digits(p, static_cast<unsigned>(year), 4);
  return p + std::snprintf(p, 12, "%04d", year);  // only for times no parse gives, as printf would
}

// YYYY-MM-DDThh:mm:ss (extended) or YYYYMMDDThhmmss (basic), without the zone.
char* put_date_time(char* p, const Civil& c, bool extended) {
  const unsigned fields[] = {c.month, c.day, c.hour, c.minute, c.second};
  p = put_year(p, c.year);
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      *p++ = 'T';
    } else if (extended) {
      *p++ = i < 2 ? '-' : ':';
    }
    p = put_digits(p, fields[i], 2);
  }
  return p;
}

Error out_of_range(const char* field, int value, const char* range) {
  std::string v = std::to_string(value);
  if (v.size() < 2) v.insert(0, "0");
  return bad(std::string(field) + " " + v + " is not " + range);
}

}  // namespace

Result<Iso8601Time> parse_iso8601(std::string_view text, bool utc_when_no_zone) {
  if (text.empty()) return bad("empty");
  size_t pos = 0;
  const int y = digits(text, pos, 4);
  if (y < 0 || !expect(text, pos, '-')) return bad("expected YYYY-MM-DD");
  const int mo = digits(text, pos, 2);
  if (mo < 0 || !expect(text, pos, '-')) return bad("expected YYYY-MM-DD");
  const int d = digits(text, pos, 2);
  if (d < 0) return bad("expected YYYY-MM-DD");
  if (mo < 1 || mo > 12) return out_of_range("month", mo, "01 to 12");
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok())
    return bad(std::string(text.substr(0, 7)) + " has no day " + std::string(text.substr(8, 2)));
  if (pos >= text.size()) return bad("no time of day and zone");
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad("expected 'T' after the date");
  ++pos;
  const int h = digits(text, pos, 2);
  if (h < 0 || !expect(text, pos, ':')) return bad("expected hh:mm[:ss]");
  const int mi = digits(text, pos, 2);
  if (mi < 0) return bad("expected hh:mm[:ss]");
  if (h > 23) return out_of_range("hour", h, "00 to 23");
  if (mi > 59) return out_of_range("minute", mi, "00 to 59");
  int s = 0;
  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    s = digits(text, pos, 2);
    if (s < 0) return bad("bad seconds");
    if (s > 60) return out_of_range("second", s, "00 to 60");
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      const size_t start = pos;
      int64_t scale = 100'000'000;
      for (; pos < text.size() && is_digit(text[pos]); ++pos, scale /= 10)
        fraction += nanoseconds((text[pos] - '0') * scale);
      if (pos == start) return bad("bad fraction of a second");
    }
  }
  seconds offset{0};  // east of UTC
  if (pos >= text.size()) {
    if (!utc_when_no_zone) return bad("no zone: add Z (UTC) or an offset such as +02:00");
  } else if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text.substr(pos) == "UTC") {
    pos = text.size();
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    const int oh = digits(text, pos, 2);
    if (pos < text.size() && text[pos] == ':') ++pos;
    const int om = digits(text, pos, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return bad("bad zone offset");
    offset = sign * (hours(oh) + minutes(om));
  } else {
    return bad("bad zone: use Z or an offset such as +02:00");
  }
  if (pos != text.size()) return bad("unexpected text after the zone");
  const sys_seconds local = sys_days(date) + hours(h) + minutes(mi) + seconds(s);
  return Iso8601Time{local - offset, fraction};
}

system_clock::time_point to_system_clock(sys_seconds t, nanoseconds fraction) {
  // Compared in seconds: converting first to the clock's ticks is what would overflow.
  constexpr sys_seconds kLast = floor<seconds>(system_clock::time_point::max());
  constexpr sys_seconds kFirst = ceil<seconds>(system_clock::time_point::min());
  if (t >= kLast) return system_clock::time_point::max();
  if (t <= kFirst) return system_clock::time_point::min();
  return time_point_cast<system_clock::duration>(t) + duration_cast<system_clock::duration>(fraction);
}

std::string format_iso8601(sys_time<milliseconds> t, Millis millis) {
  const sys_seconds whole = floor<seconds>(t);
  const auto ms = static_cast<unsigned>((t - whole).count());
  char buf[40];
  char* p = put_date_time(buf, civil(whole), /*extended=*/true);
  if (millis == Millis::kAlways || ms != 0) {
    *p++ = '.';
    p = put_digits(p, ms, 3);
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

std::string format_iso8601_basic(sys_seconds t) {
  char buf[32];
  char* p = put_date_time(buf, civil(t), /*extended=*/false);
  *p++ = 'Z';
  return std::string(buf, p);
}

}  // namespace ddb2s3

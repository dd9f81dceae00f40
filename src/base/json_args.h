// JSON that a user gives (--scan-kwargs, --values, --names, --s3-extra-args, --export-kwargs, or the
// library's kwargs and extra_args strings): read whole and strictly, every failure an Error that says what
// is wrong and where, never an exception.
//
// Not simdjson, on purpose: these texts are small, and a user needs what simdjson's parsers do not give
// here: the byte where the text goes wrong, each number's digits as written (DynamoDB's 38-digit numbers,
// never through a double), and each value's text verbatim for fields passed through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace ddb2s3 {

// One JSON value. `text` views the argument given to parse_json_arg, which must outlive the value.
struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string_view text;  // the value exactly as written (a number's digits, a string with its quotes)
  size_t offset = 0;      // where text begins in the argument (0-based)
  bool boolean = false;   // kBool
  std::string string;     // kString: the unescaped UTF-8
  std::vector<JsonValue> elements;                         // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in the order given, names unique

  // Defined in json_args.cpp, where JsonValue is complete: implicit ones make clang 14 with libstdc++ 12
  // instantiate std::pair<std::string, JsonValue> while JsonValue is still incomplete, and fail.
  JsonValue();
  JsonValue(const JsonValue&);
  JsonValue(JsonValue&&) noexcept;
  JsonValue& operator=(const JsonValue&);
  JsonValue& operator=(JsonValue&&) noexcept;
  ~JsonValue();

  bool is(Kind k) const { return kind == k; }
  const JsonValue* find(std::string_view name) const;  // an object's member, or null
  // "a string", "an object", ... or, for a number, true or false, null: the text itself (for messages).
  std::string describe() const;
};

// Reads `text`, the argument that messages call `name` (e.g. "--values", "kwargs"), to its end: RFC 8259
// (no NaN or Infinity, comments, trailing commas or single quotes), valid UTF-8 without lone surrogates,
// unique member names, at most 256 levels deep. An error is kUsage with field = name and a message such as
// "--values is not valid JSON: 'nan' is not a JSON value at byte 7 (at 'nan}')"; bytes count from 1.
Result<JsonValue> parse_json_arg(std::string_view text, std::string_view name);

// Integers from JSON or a flag, range-checked: "-" and digits only (no fraction, exponent, '+' or space),
// from min to max. Errors are kUsage: "<what> must be an integer from <min> to <max>, not '<text>'".
Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max, std::string_view what);
// The same for a JSON value: a number written as an integer ("5", not "5.0", "5e0" or "\"5\"").
Result<int64_t> json_integer(const JsonValue& value, int64_t min, int64_t max, std::string_view what);
// A finite JSON number (any of JSON's forms) as a double: "<what> must be a number, not ...".
Result<double> json_number(const JsonValue& value, std::string_view what);

}  // namespace ddb2s3

// Shared by the fuzz targets (tests/fuzz/*.cpp, libFuzzer): a property that fails is a finding, so it
// ends the process with __builtin_trap() after saying which property and on what.
#pragma once

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/json_args.h"

namespace ddb2s3::fuzz {

[[noreturn]] inline void property_failed(const char* what, std::string_view text) {
  std::fprintf(stderr, "PROPERTY FAILED: %s\n  on %zu bytes: '%.*s'\n", what, text.size(),
               static_cast<int>(text.size() > 2000 ? 2000 : text.size()), text.data());
  __builtin_trap();
}

// simdjson's DOM parser (the strict reference): the error of parsing text as one JSON document.
inline simdjson::error_code json_error(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  return parser.parse(padded).error();
}

inline bool is_json(std::string_view text) { return json_error(text) == simdjson::SUCCESS; }

// A JSON object, by simdjson's DOM parser. simdjson 3.0 refuses numbers that JSON allows but a double or a
// 64-bit integer cannot hold (NUMBER_ERROR: DynamoDB's 38-digit numbers, 1e400); for those texts the
// project's strict RFC 8259 reader (base/json_args.h, digits kept as written) decides instead.
inline bool is_json_object(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element e;
  const simdjson::error_code error = parser.parse(padded).get(e);
  if (error == simdjson::NUMBER_ERROR) {
    auto v = parse_json_arg(text, "line");
    return v && v->is(JsonValue::Kind::kObject);
  }
  return !error && e.is_object();
}

// DDB2S3_FUZZ_STRICT=1: check the properties that known gaps of the code break (see the targets).
inline bool strict() {
  static const bool on = [] {
    const char* v = std::getenv("DDB2S3_FUZZ_STRICT");
    return v && *v && std::string_view(v) != "0";
  }();
  return on;
}

// Splits the input at the first occurrence of sep: (before, after); no sep: (all, "").
inline std::pair<std::string_view, std::string_view> split(std::string_view in, std::string_view sep) {
  size_t at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + sep.size())};
}

}  // namespace ddb2s3::fuzz

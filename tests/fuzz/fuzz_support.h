// Shared by the fuzz targets (tests/fuzz/*.cpp, libFuzzer): a property that fails is a finding, so it
// ends the process with __builtin_trap() after saying which property and on what.
#pragma once

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ddb2s3::fuzz {

[[noreturn]] inline void property_failed(const char* what, std::string_view text) {
  std::fprintf(stderr, "PROPERTY FAILED: %s\n  on %zu bytes: '%.*s'\n", what, text.size(),
               static_cast<int>(text.size() > 2000 ? 2000 : text.size()), text.data());
  __builtin_trap();
}


// Whether t is one number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
inline bool json_number_token(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// text with every number outside strings that JSON's grammar allows replaced by 0; anything else as it is.
inline std::string zero_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {  // a string, escapes included, copied as it is
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      j = j < text.size() ? j + 1 : text.size();
      out.append(text.substr(i, j - i));
      i = j;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t j = i;
      while (j < text.size() && std::string_view("+-.0123456789eE").find(text[j]) != std::string_view::npos) ++j;
      const std::string_view token = text.substr(i, j - i);
      out.append(json_number_token(token) ? std::string_view("0") : token);
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

// text with every \uXXXX escape of a surrogate (D800-DFFF) replaced by \uFFFD, so that a lone one, which
// JSON's grammar allows and simdjson refuses (STRING_ERROR), is judged as the escape it is.
inline std::string plain_surrogates(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i + 5 < out.size(); ++i) {
    if (out[i] != '\\') continue;
    if (out[i + 1] == 'u' && (out[i + 2] == 'd' || out[i + 2] == 'D') &&
        std::string_view("89abcdefABCDEF").find(out[i + 3]) != std::string_view::npos)
      out.replace(i + 2, 4, "FFFD");
    ++i;  // the escaped character is not an escape itself
  }
  return out;
}

// simdjson's DOM parser (the strict reference) on text as one JSON document. simdjson 3.0 refuses what JSON's
// grammar allows in two cases: numbers that a double or a 64-bit integer cannot hold (NUMBER_ERROR:
// DynamoDB's 38-digit numbers, 1e400) and lone surrogate escapes (STRING_ERROR); for those texts, each
// number is replaced by 0 and each surrogate escape by \uFFFD, and simdjson judges the rest.
inline simdjson::error_code json_parse(std::string_view text, simdjson::dom::element& e) {
  static simdjson::dom::parser parser;
  simdjson::error_code error = parser.parse(simdjson::padded_string(text)).get(e);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::STRING_ERROR)
    error = parser.parse(simdjson::padded_string(zero_numbers(plain_surrogates(text)))).get(e);
  return error;
}

inline bool is_json_object(std::string_view text) {
  simdjson::dom::element e;
  return !json_parse(text, e) && e.is_object();
}

inline simdjson::error_code json_error(std::string_view text) {
  simdjson::dom::element e;
  return json_parse(text, e);
}

inline bool is_json(std::string_view text) { return json_error(text) == simdjson::SUCCESS; }

// Splits the input at the first occurrence of sep: (before, after); no sep: (all, "").
inline std::pair<std::string_view, std::string_view> split(std::string_view in, std::string_view sep) {
  size_t at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + sep.size())};
}

}  // namespace ddb2s3::fuzz

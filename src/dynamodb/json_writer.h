// Internal to the dynamodb module: what its request bodies are written with (JSON by hand).
#pragma once

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynamodb/dynamodb.h"

namespace ddb2s3::dynamodb_internal {

// Epoch seconds as the JSON 1.0 protocol sends timestamps: a number, milliseconds at most.
inline void append_timestamp(std::string& out, double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  std::string text = buf;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  out += text;
}

// Writes one JSON object field by field, remembering the names so that extra fields cannot repeat one.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_ += '{'; }

  void key(std::string_view name) {
    if (!names_.empty()) out_ += ',';
    names_.emplace_back(name);
    append_json_string(out_, name);
    out_ += ':';
  }
  void string(std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out_, value);
  }
  // Leaves the field out when value is empty (AWS's "not given").
  void string_if_set(std::string_view name, std::string_view value) {
    if (!value.empty()) string(name, value);
  }
  void raw(std::string_view name, std::string_view json) {
    key(name);
    out_ += json;
  }
  void timestamp_if_set(std::string_view name, const std::optional<double>& t) {
    if (!t) return;
    key(name);
    append_timestamp(out_, *t);
  }
  bool has(std::string_view name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  std::vector<std::string> names_;
};

}  // namespace ddb2s3::dynamodb_internal

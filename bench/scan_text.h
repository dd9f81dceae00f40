// What the benchmark's own Scan clients (raw_fetch.cpp, floor.cpp) share: a libcurl write callback into a
// std::string, and the cheap lookup of LastEvaluatedKey in a page (no JSON parser: they measure the floor).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ddb2s3::bench {

// CURLOPT_WRITEFUNCTION: appends to the std::string given as CURLOPT_WRITEDATA.
inline size_t append_to_string(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The JSON object after `"name":` (balanced braces; keys hold no braces), or empty if absent.
inline std::string_view object_after(std::string_view body, std::string_view name) {
  size_t at = body.rfind(name);
  if (at == std::string_view::npos) return {};
  size_t open = body.find('{', at);
  int depth = 0;
  for (size_t i = open; i < body.size(); ++i) {
    if (body[i] == '{') ++depth;
    if (body[i] == '}' && --depth == 0) return body.substr(open, i - open + 1);
  }
  return {};
}

}  // namespace ddb2s3::bench

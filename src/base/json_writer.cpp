#include "base/json_writer.h"

#include <algorithm>

#include "base/encoding.h"

namespace ddb2s3 {

void append_json_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t clean_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, clean_start, i - clean_start);  // copy clean runs at once
    clean_start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHexDigitsLower[c >> 4];
        out += kHexDigitsLower[c & 0xf];
    }
  }
  out.append(s, clean_start, s.size() - clean_start);
  out += '"';
}

void JsonObjectWriter::key(std::string_view name) {
  if (!names_.empty()) out_ += ',';
  names_.emplace_back(name);
  append_json_string(out_, name);
  out_ += ':';
}

void JsonObjectWriter::string_or_null(std::string_view name, std::string_view value) {
  if (!value.empty()) return string(name, value);
  key(name);
  out_ += "null";
}

bool JsonObjectWriter::has(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

}  // namespace ddb2s3

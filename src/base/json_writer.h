// Writing JSON by hand into a std::string: the string escaper, and an object writer that names each field
// once. The output is compact (no white space) and in the order written.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ddb2s3 {

// Appends s as a JSON string literal to out: quoted, with '"', '\' and the control characters below 0x20
// escaped (\n \r \t \b \f by name, the others as \u00XX). Other bytes, UTF-8 included, are copied as they
// are: s must already be valid UTF-8 for the result to be valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Appends [e1,e2,...] to out, each element written by write(out, element).
template <class Range, class Write>
void append_json_array(std::string& out, const Range& elements, Write&& write) {
  out += '[';
  bool first = true;
  for (const auto& element : elements) {
    if (!first) out += ',';
    first = false;
    write(out, element);
  }
  out += ']';
}

// Writes one JSON object into out field by field, remembering the names so that has() can tell whether one
// was written (to refuse a repeated field). The constructor appends '{', close() the '}'.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_ += '{'; }

  // The name and ':', for a value the caller appends to the string.
  void key(std::string_view name);
  void string(std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out_, value);
  }
  // Leaves the field out when value is empty (AWS's "not given").
  void string_if_set(std::string_view name, std::string_view value) {
    if (!value.empty()) string(name, value);
  }
  // null when value is empty.
  void string_or_null(std::string_view name, std::string_view value);
  // Integers in decimal; floating point as std::to_string writes it (six decimals).
  template <class T>
  requires std::is_arithmetic_v<T> &&(!std::is_same_v<T, bool>)void number(std::string_view name, T value) {
    key(name);
    out_ += std::to_string(value);
  }
  // A JSON text (object, array, literal) as it is.
  void raw(std::string_view name, std::string_view json) {
    key(name);
    out_ += json;
  }
  // name: [...], each element written by write(out, element).
  template <class Range, class Write>
  void array(std::string_view name, const Range& elements, Write&& write) {
    key(name);
    append_json_array(out_, elements, write);
  }
  bool has(std::string_view name) const;
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  std::vector<std::string> names_;
};

}  // namespace ddb2s3

#include "base/json_args.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ddb2s3 {
namespace {

constexpr int kMaxDepth = 256;
constexpr size_t kContextBytes = 24;  // of the text shown around an error

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Ends a bare token (a number or a word): what may follow a value.
bool ends_token(char c) { return is_space(c) || c == ',' || c == '}' || c == ']' || c == ':' || c == '"'; }

// Text for a message: printable ASCII as is, anything else as \xNN, at most `limit` bytes.
std::string printable(std::string_view s, size_t limit = kContextBytes) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

// The length of the UTF-8 sequence at s[i] (1-4), or 0 when it is not valid UTF-8 (overlong forms,
// UTF-16 surrogates and code points past U+10FFFF included).
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent reader of one argument; pos_ only moves forward.
class Reader {
 public:
  Reader(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  Result<JsonValue> document() {
    skip_space();
    if (pos_ >= text_.size()) return fail("no JSON value", pos_);
    JsonValue root;
    if (Status s = value(root, 1); !s) return std::move(s).error();
    skip_space();
    if (pos_ < text_.size()) return fail("unexpected text after the JSON value", pos_);
    return root;
  }

 private:
  Error fail(const std::string& what, size_t at) const {
    std::string where;
    if (text_.empty()) {
      where = "the text is empty";
    } else if (at >= text_.size()) {
      const size_t from = text_.size() > kContextBytes ? text_.size() - kContextBytes : 0;
      where =
          "the text ends after '" + std::string(from > 0 ? "..." : "") + printable(text_.substr(from)) + "'";
    } else {
      where = "at '" + printable(text_.substr(at)) + "'";
    }
    Error e = Error::usage(std::string(name_) + " is not valid JSON: " + what + " at byte " +
                           std::to_string(at + 1) + " (" + where + ")");
    e.field = std::string(name_);
    return e;
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  // The bare token at `from` (for messages): up to what may follow a value.
  std::string_view token_at(size_t from) const {
    size_t end = from;
    while (end < text_.size() && !ends_token(text_[end]) && text_[end] != '{' && text_[end] != '[') ++end;
    return text_.substr(from, std::max<size_t>(end - from, 1));
  }

  Status value(JsonValue& v, int depth) {
    if (depth > kMaxDepth) return fail("it nests deeper than " + std::to_string(kMaxDepth) + " levels", pos_);
    if (at_end()) return fail("expected a JSON value", pos_);
    const size_t begin = pos_;
    v.offset = begin;
    Status s;
    const char c = peek();
    if (c == '{') {
      v.kind = JsonValue::Kind::kObject;
      s = object(v, depth);
    } else if (c == '[') {
      v.kind = JsonValue::Kind::kArray;
      s = array(v, depth);
    } else if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      s = string(v.string);
    } else if (c == '-' || is_digit(c)) {
      v.kind = JsonValue::Kind::kNumber;
      s = number();
    } else if (c == '.' || c == '+') {
      return fail(
          "'" + printable(token_at(begin)) + "' is not a JSON number (it must begin with a digit or '-')",
          begin);
    } else {
      s = word(v);
    }
    if (!s) return s;
    v.text = text_.substr(begin, pos_ - begin);
    return {};
  }

  Status word(JsonValue& v) {
    const size_t begin = pos_;
    const std::string_view w = token_at(begin);
    if (w == "true" || w == "false") {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = w == "true";
    } else if (w == "null") {
      v.kind = JsonValue::Kind::kNull;
    } else if (std::isalpha(static_cast<unsigned char>(w.front())) || w.front() == '\'') {
      return fail(
          "'" + printable(w) +
              "' is not a JSON value (strings need double quotes; true, false and null are lower case)",
          begin);
    } else {
      return fail("expected a JSON value (an object, array, string, number, true, false or null)", begin);
    }
    pos_ += w.size();
    return {};
  }

  Status number() {
    const size_t begin = pos_;
    auto bad = [&](const char* why) {
      return fail("'" + printable(token_at(begin)) + "' is not a JSON number (" + why + ")", begin);
    };
    if (peek() == '-') ++pos_;
    if (!is_digit(peek())) return bad("a digit must follow '-'");
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) return bad("no leading zeros");
    } else {
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) return bad("digits must follow '.'");
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) return bad("the exponent needs digits");
      while (is_digit(peek())) ++pos_;
    }
    if (!at_end() && !ends_token(peek()) && peek() != '{' && peek() != '[')
      return bad("unexpected characters");
    return {};
  }

  // Reads 4 hex digits after "\u" at pos_; -1 when they are not there.
  int32_t hex4() {
    if (pos_ + 4 > text_.size()) return -1;
    int32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      const int h = hex_value(text_[pos_ + i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    pos_ += 4;
    return v;
  }

  Status string(std::string& out) {
    const size_t begin = pos_;
    ++pos_;  // the opening quote
    while (true) {
      if (at_end()) return fail("the string that begins here is not closed", begin);
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return {};
      }
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%04X", u);
        return fail(std::string("control character U+") + buf + " in a string (write it as \\u" + buf + ")",
                    pos_);
      }
      if (c != '\\') {
        const size_t n = utf8_length(text_, pos_);
        if (n == 0) return fail("invalid UTF-8 in a string", pos_);
        out.append(text_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      const size_t escape = pos_;
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          int32_t cp = hex4();
          if (cp < 0) return fail("\\u must be followed by 4 hex digits", escape);
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("a lone UTF-16 low surrogate escape", escape);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            int32_t low = -1;
            if (peek() == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == 'u') {
              pos_ += 2;
              low = hex4();
            }
            if (low < 0xDC00 || low > 0xDFFF)
              return fail("a UTF-16 high surrogate escape without its low half", escape);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, static_cast<uint32_t>(cp));
          break;
        }
        default:
          if (e == '\0' && pos_ > text_.size())
            return fail("the string that begins here is not closed", begin);
          return fail("invalid escape '\\" + printable(text_.substr(escape + 1, 1)) + "' in a string",
                      escape);
      }
    }
  }

  Status array(JsonValue& v, int depth) {
    ++pos_;  // [
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return {};
    }
    while (true) {
      skip_space();
      if (at_end()) return fail("expected an array element", pos_);
      JsonValue element;
      if (Status s = value(element, depth + 1); !s) return s;
      v.elements.push_back(std::move(element));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return {};
      }
      return fail("expected ',' or ']' after an array element", pos_);
    }
  }

  Status object(JsonValue& v, int depth) {
    ++pos_;  // {
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return {};
    }
    std::vector<size_t> name_offsets;
    while (true) {
      skip_space();
      if (peek() != '"') return fail("expected a member name in double quotes", pos_);
      name_offsets.push_back(pos_);
      std::string name;
      if (Status s = string(name); !s) return s;
      skip_space();
      if (peek() != ':') return fail("expected ':' after the member name", pos_);
      ++pos_;
      skip_space();
      if (at_end()) return fail("expected the member's value", pos_);
      JsonValue member;
      if (Status s = value(member, depth + 1); !s) return s;
      v.members.emplace_back(std::move(name), std::move(member));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        break;
      }
      return fail("expected ',' or '}' after an object member", pos_);
    }
    // Unique names: a name given twice is almost always a mistake, and which one wins differs by reader.
    std::vector<size_t> order(v.members.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return v.members[a].first < v.members[b].first; });
    size_t duplicate = v.members.size();
    for (size_t i = 1; i < order.size(); ++i) {
      if (v.members[order[i]].first == v.members[order[i - 1]].first)
        duplicate = std::min(duplicate, order[i]);
    }
    if (duplicate < v.members.size())
      return fail("the member name \"" + printable(v.members[duplicate].first, 64) + "\" is given twice",
                  name_offsets[duplicate]);
    return {};
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
};

std::string shown(const JsonValue& v) {
  if (v.is(JsonValue::Kind::kNumber)) return "'" + printable(v.text, 40) + "'";
  return v.describe();
}

Error range_error(std::string_view what, int64_t min, int64_t max, const std::string& got) {
  return Error::usage(std::string(what) + " must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not " + got);
}

}  // namespace

JsonValue::JsonValue() = default;
JsonValue::JsonValue(const JsonValue&) = default;
JsonValue::JsonValue(JsonValue&&) noexcept = default;
JsonValue& JsonValue::operator=(const JsonValue&) = default;
JsonValue& JsonValue::operator=(JsonValue&&) noexcept = default;
JsonValue::~JsonValue() = default;

const JsonValue* JsonValue::find(std::string_view name) const {
  for (const auto& [key, value] : members)
    if (key == name) return &value;
  return nullptr;
}

std::string JsonValue::describe() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return boolean ? "true" : "false";
    case Kind::kNumber:
      return "the number " + printable(text, 40);
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "a value";
}

Result<JsonValue> parse_json_arg(std::string_view text, std::string_view name) {
  return Reader(text, name).document();
}

Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max, std::string_view what) {
  const std::string got = "'" + printable(text, 40) + "'";
  const bool digits = !text.empty() &&
                      std::all_of(text.begin() + (text.front() == '-' ? 1 : 0), text.end(), is_digit) &&
                      text != "-";
  if (!digits) return range_error(what, min, max, got);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return range_error(what, min, max, got);
  return value;
}

Result<int64_t> json_integer(const JsonValue& v, int64_t min, int64_t max, std::string_view what) {
  const bool integer =
      v.is(JsonValue::Kind::kNumber) && v.text.find_first_of(".eE") == std::string_view::npos;
  if (!integer) return range_error(what, min, max, shown(v));
  auto n = parse_integer(v.text, min, max, what);
  if (!n) return range_error(what, min, max, shown(v));
  return n;
}

Result<double> json_number(const JsonValue& v, std::string_view what) {
  double d = 0;
  if (v.is(JsonValue::Kind::kNumber)) {
    const auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
    if (ec == std::errc() && end == v.text.data() + v.text.size() && std::isfinite(d)) return d;
    return Error::usage(std::string(what) + " is out of range: " + printable(v.text, 40));
  }
  return Error::usage(std::string(what) + " must be a number, not " + v.describe());
}

}  // namespace ddb2s3

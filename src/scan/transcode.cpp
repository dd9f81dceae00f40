// Scan page -> output lines: one job, kept in one file although it is long (its hot paths, the escaper
// and the attribute walk, inline together). The walk is simdjson on-demand over the response bytes;
// strings and numbers are copied from their source positions, so nothing goes through a DOM, a double
// or a per-item allocation.
#include "scan/transcode.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "base/strings.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ddb2s3 {

static_assert(kScanBodyPadding >= simdjson::SIMDJSON_PADDING);

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr size_t kGrowChunk = 64 * 1024;
constexpr size_t kSlack = 128;   // room for 16-byte stores and minify's block writes past the end
constexpr int kMaxNesting = 64;  // attribute levels (DynamoDB allows 32); bounds our recursion
constexpr size_t kExcerptBefore = 24;
constexpr size_t kExcerptAfter = 40;
constexpr size_t kUnknownLength = static_cast<size_t>(-1);

// Appends to a std::string through a raw pointer: the string is kept sized ahead of the pointer
// (grown in chunks, so the zero-fill of resize() touches each byte once) and trimmed at the end.
class Writer {
 public:
  explicit Writer(std::string& s) : s_(&s), base_(s.size()) {
    p_ = s.data() + s.size();
    end_ = p_;
  }
  // Writes over s from its start, its current bytes serving as room (a scratch buffer kept sized).
  struct Overwrite {};
  Writer(std::string& s, Overwrite) : s_(&s), base_(0) {
    p_ = s.data();
    end_ = s.data() + s.size();
  }

  // Makes room for n more bytes past the write pointer.
  void ensure(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) grow(n);
  }
  void put(char c) { *p_++ = c; }
  void put(const char* s, size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }
  char*& ptr() { return p_; }

  // Bytes written since construction or the last rewind().
  std::string_view since_base() const {
    return {s_->data() + base_, static_cast<size_t>(p_ - s_->data()) - base_};
  }
  void rewind() { p_ = s_->data() + base_; }
  void finish() { s_->resize(static_cast<size_t>(p_ - s_->data())); }
  void abandon() { s_->resize(base_); }

 private:
  void grow(size_t n) {
    const size_t len = static_cast<size_t>(p_ - s_->data());
    size_t want = len + std::max(n, kGrowChunk);
    if (want > s_->capacity()) want = std::max(want, 2 * s_->capacity());
    s_->resize(want);
    p_ = s_->data() + len;
    end_ = s_->data() + s_->size();
  }

  std::string* s_;
  size_t base_;
  char* p_;
  char* end_;
};

constexpr bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char l = static_cast<char>(c | 0x20);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// Reads the 4 hex digits at p; -1 when they are not hex.
int32_t read_hex4(const char* p) {
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hex_value(p[i]);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

void put_utf8(Writer& w, uint32_t cp) {
  if (cp < 0x80) {
    w.put(static_cast<char>(cp));
  } else if (cp < 0x800) {
    w.put(static_cast<char>(0xC0 | (cp >> 6)));
    w.put(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    w.put(static_cast<char>(0xE0 | (cp >> 12)));
    w.put(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    w.put(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    w.put(static_cast<char>(0xF0 | (cp >> 18)));
    w.put(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    w.put(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    w.put(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The canonical escape of a character that JSON requires escaped (< 0x20, '"', '\\').
void put_escaped(Writer& w, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  w.put('\\');
  switch (c) {
    case '"':
      w.put('"');
      return;
    case '\\':
      w.put('\\');
      return;
    case '\b':
      w.put('b');
      return;
    case '\f':
      w.put('f');
      return;
    case '\n':
      w.put('n');
      return;
    case '\r':
      w.put('r');
      return;
    case '\t':
      w.put('t');
      return;
    default:
      w.put("u00", 3);
      w.put(kHex[c >> 4]);
      w.put(kHex[c & 0xF]);
  }
}

// Copies bytes from *in to the writer until the first '"', '\\' or control character, which it
// leaves *in pointing at. The caller guarantees a closing quote and 16 bytes of slack both sides.
inline void copy_clean_run(const char*& in, Writer& w) {
  const char* p = in;
  char* o = w.ptr();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i bslash = _mm_set1_epi8('\\');
  const __m128i ctl = _mm_set1_epi8(0x1F);
  for (;;) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), x);
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                         _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) {
      const unsigned n = static_cast<unsigned>(__builtin_ctz(mask));
      p += n;
      o += n;
      break;
    }
    p += 16;
    o += 16;
  }
#else
  for (;;) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20) break;
    *o++ = static_cast<char>(c);
    ++p;
  }
#endif
  in = p;
  w.ptr() = o;
}

// Copies the n content bytes of a string whose end is known, unless one needs rewriting ('\\' or
// a control character). Needs kSlack bytes past both ends; returns false (nothing kept) if so.
inline bool copy_if_clean(const char* in, size_t n, Writer& w) {
  char* const o = w.ptr();
#if defined(__SSE2__)
  const __m128i bslash = _mm_set1_epi8('\\');
  const __m128i ctl = _mm_set1_epi8(0x1F);
  for (size_t i = 0; i < n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), x);
    const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(x, bslash), _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (n - i < 16) mask &= (1u << (n - i)) - 1;
    if (mask != 0) return false;
  }
#else
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '\\' || c < 0x20) return false;
    o[i] = static_cast<char>(c);
  }
#endif
  w.ptr() = o + n;
  return true;
}

// Copies n bytes (n small) in 16-byte blocks; needs kSlack bytes past both ends.
inline void copy_short(const char* in, size_t n, Writer& w) {
  char* const o = w.ptr();
#if defined(__SSE2__)
  for (size_t i = 0; i < n; i += 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
  }
#else
  std::memcpy(o, in, n);
#endif
  w.ptr() = o + n;
}

// Emits the JSON string whose content starts at `in` (just past its opening quote) in canonical
// form, quotes included. `bound` is at least the content length plus the closing quote; `exact` is
// the content length when known. Returns the position past the closing quote, or nullptr on an
// invalid escape.
const char* emit_string(const char* in, size_t bound, size_t exact, Writer& w) {
  w.ensure(bound + kSlack);
  if (exact != kUnknownLength) {  // compact input: the content's length is known, copy it if clean
    w.put('"');
    if (copy_if_clean(in, exact, w)) {
      w.put('"');
      return in + exact + 1;
    }
    --w.ptr();
  }
  const char* const limit = in + bound;  // output never outgrows input except for raw controls
  w.put('"');
  for (;;) {
    copy_clean_run(in, w);
    const unsigned char c = static_cast<unsigned char>(*in);
    if (c == '"') {
      w.put('"');
      return in + 1;
    }
    if (c != '\\') {  // a raw control character (invalid JSON, but harmless to escape)
      w.ensure(static_cast<size_t>(limit - in) + 6 + kSlack);
      put_escaped(w, c);
      ++in;
      continue;
    }
    const char e = in[1];
    switch (e) {
      case '"':
      case '\\':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        w.put('\\');
        w.put(e);
        in += 2;
        continue;
      case '/':
        w.put('/');
        in += 2;
        continue;
      case 'u':
        break;
      default:
        return nullptr;
    }
    const int32_t cp = read_hex4(in + 2);
    if (cp < 0) return nullptr;
    if (cp >= 0xD800 && cp <= 0xDBFF && in[6] == '\\' && in[7] == 'u') {
      const int32_t lo = read_hex4(in + 8);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        put_utf8(
            w, 0x10000 + ((static_cast<uint32_t>(cp) - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00));
        in += 12;
        continue;
      }
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {  // a lone surrogate has no UTF-8 form: U+FFFD, as decoders do
      put_utf8(w, 0xFFFD);
    } else if (cp < 0x20 || cp == '"' || cp == '\\') {
      put_escaped(w, static_cast<unsigned char>(cp));
    } else {
      put_utf8(w, static_cast<uint32_t>(cp));
    }
    in += 6;
  }
}

// The end of the JSON number that starts at p, or nullptr when none does.
inline const char* number_end(const char* p) {
  if (*p == '-') ++p;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    while (is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) return nullptr;
    while (is_digit(*p)) ++p;
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    if (!is_digit(*p)) return nullptr;
    while (is_digit(*p)) ++p;
  }
  return p;
}

// Checks that the string content at `in` (past its opening quote) is a JSON number up to the
// closing quote; returns its length, or 0 when it is not one.
inline size_t number_length(const char* in) {
  const char* const e = number_end(in);
  return e != nullptr && *e == '"' ? static_cast<size_t>(e - in) : 0;
}

// Copies n bytes to the writer and tells whether any was a control character (a raw TAB/CR/LF
// can only be whitespace between tokens in valid JSON). Needs kSlack bytes past both ends.
bool copy_and_find_controls(const char* in, size_t n, Writer& w) {
  char* o = w.ptr();
  w.ptr() += n;
#if defined(__SSE2__)
  const __m128i ctl = _mm_set1_epi8(0x1F);
  __m128i found = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 48));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i + 16), b);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i + 32), c);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i + 48), d);
    const __m128i m = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
    found = _mm_or_si128(found, _mm_cmpeq_epi8(_mm_min_epu8(m, ctl), m));
  }
  for (; i < n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), a);
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(a, ctl), a)));
    if (n - i < 16) mask &= (1u << (n - i)) - 1;
    if (mask != 0) return true;
  }
  return _mm_movemask_epi8(found) != 0;
#else
  std::memcpy(o, in, n);
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(in[i]) < 0x20) return true;
  }
  return false;
#endif
}

// The first '"' or '\\' at or after p (one is always found before the body's padding ends: stage 1 has
// found the string's closing quote). Reads up to 15 bytes past it.
inline const char* find_quote_or_backslash(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (;; p += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(a, quote), _mm_cmpeq_epi8(a, backslash))));
    if (mask != 0) return p + __builtin_ctz(mask);
  }
#else
  while (*p != '"' && *p != '\\') ++p;
  return p;
#endif
}

// Whether every escape of the string content at `in` (past its opening quote, up to its closing
// quote) is one of JSON's: \" \\ \/ \b \f \n \r \t, or \u and four hex digits. Escapes are paired as
// stage 1 pairs them, so the walk ends at the quote that stage 1 took for the closing one.
inline bool escapes_valid(const char* in) {
  for (const char* p = find_quote_or_backslash(in);; p = find_quote_or_backslash(p)) {
    if (*p == '"') return true;
    switch (p[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p += 2;
        break;
      case 'u':
        if (hex_value(p[2]) < 0 || hex_value(p[3]) < 0 || hex_value(p[4]) < 0 || hex_value(p[5]) < 0)
          return false;
        p += 6;
        break;
      default:
        return false;
    }
  }
}

inline const char* skip_ws(const char* p) {
  while (is_json_space(*p)) ++p;
  return p;
}

// The type descriptor at k (a key's first byte, past its quote).
enum class Descriptor { kS, kN, kB, kBool, kNull, kSs, kNs, kBs, kL, kM, kUnknown };

inline Descriptor classify(const char* k) {
  const bool end1 = k[1] == '"';
  const bool end2 = k[1] != '"' && k[2] == '"';
  switch (k[0]) {
    case 'S':
      if (end1) return Descriptor::kS;
      if (end2 && k[1] == 'S') return Descriptor::kSs;
      break;
    case 'N':
      if (end1) return Descriptor::kN;
      if (end2 && k[1] == 'S') return Descriptor::kNs;
      if (std::memcmp(k, "NULL\"", 5) == 0) return Descriptor::kNull;
      break;
    case 'B':
      if (end1) return Descriptor::kB;
      if (end2 && k[1] == 'S') return Descriptor::kBs;
      if (std::memcmp(k, "BOOL\"", 5) == 0) return Descriptor::kBool;
      break;
    case 'L':
      if (end1) return Descriptor::kL;
      break;
    case 'M':
      if (end1) return Descriptor::kM;
      break;
    default:
      break;
  }
  return Descriptor::kUnknown;
}

}  // namespace

struct PageTranscoder::Impl {
  explicit Impl(OutputFormat f) : format(f) {}

  Result<PageInfo> transcode(std::string& body, std::string& out);

  // Each returns false after recording what failed and where.
  bool page(od::document& doc, PageInfo& info, std::string& out);
  bool items(od::value v, PageInfo& info, std::string& out);
  bool jsonl_item(od::value item, Writer& w);
  bool dynamodb_json_item(od::value item, bool first, Writer& w);
  bool map(od::object obj, Writer& w, int depth);
  bool attribute_value(od::value v, Writer& w, int depth);
  const char* scalar_value(const char* q, Descriptor d, Writer& w);
  bool string_value(od::value v, Writer& w);
  bool number_value(od::value v, Writer& w);
  bool list_of(od::value v, Descriptor d, Writer& w, int depth);
  bool last_evaluated_key(od::document& doc, od::value v, std::string& dst);
  bool consumed_capacity(od::value v, PageInfo& info);
  bool unused_value(od::value v, int depth);

  bool fail(error_code e) { return fail(simdjson::error_message(e)); }
  bool fail(const char* what) {
    failure = what;
    return false;
  }
  Error error(std::string_view body) const;

  OutputFormat format;
  ItemCallback callback;
  od::parser parser;
  simdjson::dom::parser validator;  // dynamodb-json: checks each page whole before items are copied
  std::string scratch;       // the line handed to the callback
  std::string discard;       // the plain form of LastEvaluatedKey, made to check it
  std::string probe;         // the page's first item, minified to judge its formatting
  bool page_compact = true;  // dynamodb-json: whether the page's first item was compact
  const char* failure = nullptr;
  // The top-level field the failure is in, when the error names one.
  const char* failed_field = nullptr;
  const char* at = nullptr;   // the latest position reached, for error excerpts
  const char* end = nullptr;  // the end of the page's bytes (padding follows)
};

#define DDB2S3_TRY(expr)              \
  do {                                \
    if (error_code e_ = (expr); e_) { \
      return fail(e_);                \
    }                                 \
  } while (0)

Result<PageInfo> PageTranscoder::Impl::transcode(std::string& body, std::string& out) {
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING)
    body.reserve(body.size() + kScanBodyPadding);
  failure = nullptr;
  failed_field = nullptr;
  at = body.data();
  end = body.data() + body.size();
  const size_t out_size = out.size();
  PageInfo info;
  od::document doc;
  bool ok = false;
  // dynamodb-json copies items' bytes as they came: the page's grammar is checked whole first (on-demand
  // skips an item by counting brackets, so '{]' would pass). About 0.5 CPU-s per GB.
  if (format == OutputFormat::kDynamoDbJson) {
    if (error_code e = validator.parse(body.data(), body.size(), false).error(); e) {
      fail(e);
      out.resize(out_size);
      return error(body);
    }
  }
  if (error_code e = parser.iterate(body.data(), body.size(), body.capacity()).get(doc); e) {
    fail(e);
  } else {
    ok = page(doc, info, out);
  }
  if (!ok) {
    out.resize(out_size);
    return error(body);
  }
  return info;
}

bool PageTranscoder::Impl::page(od::document& doc, PageInfo& info, std::string& out) {
  od::object top;
  DDB2S3_TRY(doc.get_object().get(top));
  bool has_count = false;
  for (auto field_result : top) {
    od::field field;
    DDB2S3_TRY(std::move(field_result).get(field));
    const od::raw_json_string key = field.key();
    at = key.raw();
    if (key == "Items") {
      if (!items(field.value(), info, out)) return false;
    } else if (key == "Count") {
      uint64_t n = 0;
      DDB2S3_TRY(field.value().get_uint64().get(n));
      info.count = n;
      has_count = true;
    } else if (key == "ScannedCount") {
      uint64_t n = 0;
      DDB2S3_TRY(field.value().get_uint64().get(n));
      info.scanned_count = n;
    } else if (key == "LastEvaluatedKey") {
      if (!last_evaluated_key(doc, field.value(), info.last_evaluated_key)) {
        failed_field = "LastEvaluatedKey";
        return false;
      }
    } else if (key == "ConsumedCapacity") {
      if (!consumed_capacity(field.value(), info)) return false;
    } else if (!unused_value(field.value(), 0)) {
      return false;
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return fail("trailing content after the response object");
  }
  if (!has_count) info.count = info.items;
  return true;
}

bool PageTranscoder::Impl::items(od::value v, PageInfo& info, std::string& out) {
  od::array array;
  DDB2S3_TRY(v.get_array().get(array));
  const bool jsonl = format == OutputFormat::kJsonl;
  // With a callback each line is written over the scratch buffer from its start (its bytes serve as room).
  Writer w = callback ? Writer(scratch, Writer::Overwrite{}) : Writer(out);
  if (callback) w.rewind();
  // A jsonl line is never longer than its item's bytes plus the separator, so one reservation
  // serves the whole page.
  if (jsonl) w.ensure(static_cast<size_t>(end - at) + kSlack);
  for (auto item_result : array) {
    od::value item;
    DDB2S3_TRY(item_result.get(item));
    const bool ok = jsonl ? jsonl_item(item, w) : dynamodb_json_item(item, info.items == 0, w);
    if (!ok) {
      w.abandon();
      return false;
    }
    ++info.items;
    if (callback) {
      callback(w.since_base(), out);
      w.rewind();
    } else {
      w.put('\n');
    }
  }
  w.finish();
  return true;
}

bool PageTranscoder::Impl::jsonl_item(od::value item, Writer& w) {
  od::object obj;
  at = item.raw_json_token().data();
  DDB2S3_TRY(item.get_object().get(obj));
  if (!map(obj, w, 0)) return false;
  w.ensure(1 + kSlack);  // the '\n' after the line
  return true;
}

// The page was validated whole (transcode()), so the item's span is JSON; its bytes are copied.
bool PageTranscoder::Impl::dynamodb_json_item(od::value item, bool first, Writer& w) {
  static constexpr std::string_view kOpen = "{\"Item\":";
  od::object obj;
  at = item.raw_json_token().data();
  DDB2S3_TRY(item.get_object().get(obj));
  std::string_view raw;
  DDB2S3_TRY(obj.raw_json().get(raw));
  raw = trim_right(raw, is_json_space);
  w.ensure(kOpen.size() + raw.size() + 2 + kSlack);
  if (first) {  // judge the page's formatting once, on its first item
    probe.resize(std::max(probe.size(), raw.size() + kSlack));
    size_t len = 0;
    DDB2S3_TRY(simdjson::minify(raw.data(), raw.size(), probe.data(), len));
    page_compact = len == raw.size();
  }
  w.put(kOpen.data(), kOpen.size());
  char* const start = w.ptr();
  if (!page_compact || copy_and_find_controls(raw.data(), raw.size(), w)) {
    size_t len = 0;
    DDB2S3_TRY(simdjson::minify(raw.data(), raw.size(), start, len));
    w.ptr() = start + len;
  }
  w.put('}');
  return true;
}

// Emits the plain object for a map of attribute values (an item, or an M).
bool PageTranscoder::Impl::map(od::object obj, Writer& w, int depth) {
  w.ensure(1 + kSlack);
  w.put('{');
  bool first = true;
  for (auto field_result : obj) {
    od::field field;
    DDB2S3_TRY(std::move(field_result).get(field));
    const char* key = field.key().raw();
    od::value& value = field.value();
    const char* value_start = value.raw_json_token().data();
    at = key;
    // The key's content ends before value_start, which bounds it.
    if (!first) {
      w.ensure(1 + kSlack);
      w.put(',');
    }
    first = false;
    const size_t bound = static_cast<size_t>(value_start - key);
    const size_t exact =
        bound >= 2 && key[bound - 1] == ':' && key[bound - 2] == '"' ? bound - 2 : kUnknownLength;
    if (emit_string(key, bound, exact, w) == nullptr) {
      return fail("invalid escape in an attribute name");
    }
    w.put(':');
    if (!attribute_value(value, w, depth)) return false;
  }
  w.ensure(1 + kSlack);
  w.put('}');
  return true;
}

bool PageTranscoder::Impl::attribute_value(od::value v, Writer& w, int depth) {
  if (depth > kMaxNesting) return fail("attribute values nested too deep");
  const char* p = v.raw_json_token().data();
  at = p;
  if (*p != '{') return fail("expected a typed attribute value");
  const char* q = skip_ws(p + 1);
  if (*q != '"') return fail("attribute value without a type descriptor");
  const Descriptor d = classify(q + 1);
  if (d == Descriptor::kUnknown) return fail("unexpected type descriptor");
  if (d != Descriptor::kSs && d != Descriptor::kNs && d != Descriptor::kBs && d != Descriptor::kL &&
      d != Descriptor::kM) {
    // Scalars ({"S":"x"} and the like) are read straight from the bytes and left for the parent's
    // iteration to skip, which costs less than walking their one-field object.
    const char* e = scalar_value(q, d, w);
    if (e == nullptr) return false;
    if (*skip_ws(e) != '}') return fail("attribute value with more than one type descriptor");
    return true;
  }
  od::object typed;
  DDB2S3_TRY(v.get_object().get(typed));
  bool seen = false;
  for (auto field_result : typed) {
    od::field field;
    DDB2S3_TRY(std::move(field_result).get(field));
    if (seen) return fail("attribute value with more than one type descriptor");
    seen = true;
    if (d == Descriptor::kM) {
      od::object m;
      DDB2S3_TRY(field.value().get_object().get(m));
      if (!map(m, w, depth + 1)) return false;
    } else if (!list_of(field.value(), d, w, depth)) {
      return false;
    }
  }
  return true;
}

// Emits the S, N, B, BOOL or NULL value whose descriptor d starts at q (its quote); returns the position
// after the value, or nullptr after recording the failure.
const char* PageTranscoder::Impl::scalar_value(const char* q, Descriptor d, Writer& w) {
  const size_t key_length = d == Descriptor::kBool || d == Descriptor::kNull ? 4 : 1;
  const char* v = skip_ws(q + key_length + 2);
  if (*v != ':') {
    fail("expected ':'");
    return nullptr;
  }
  v = skip_ws(v + 1);
  switch (d) {
    case Descriptor::kS:
    case Descriptor::kB: {
      if (*v != '"') break;
      const char* e = emit_string(v + 1, static_cast<size_t>(end - v), kUnknownLength, w);
      if (e == nullptr) fail("invalid escape in a string");
      return e;
    }
    case Descriptor::kN: {
      if (*v != '"') break;
      const size_t n = number_length(v + 1);
      if (n == 0) {
        fail("N value is not a number");
        return nullptr;
      }
      w.ensure(n + kSlack);
      copy_short(v + 1, n, w);
      return v + n + 2;
    }
    default: {  // BOOL and NULL
      const bool is_true = std::memcmp(v, "true", 4) == 0;
      if (!is_true && std::memcmp(v, "false", 5) != 0) break;
      w.ensure(5 + kSlack);
      if (d == Descriptor::kNull) {
        w.put("null", 4);
      } else if (is_true) {
        w.put("true", 4);
      } else {
        w.put("false", 5);
      }
      return v + (is_true ? 4 : 5);
    }
  }
  fail(d == Descriptor::kN                          ? "expected a number in a string"
       : d == Descriptor::kS || d == Descriptor::kB ? "expected a string"
                                                    : "expected true or false");
  return nullptr;
}

// Set elements are consumed, not only read: the array's iteration then checks what follows each
// one. Left in place, an element would be skipped by depth counting, which takes a string followed
// by ':' for a key and swallows what comes after it unread ('["a":{}},"d"]' gave ["a","d"]).
bool PageTranscoder::Impl::string_value(od::value v, Writer& w) {
  const std::string_view token = v.raw_json_token();  // up to the next token: bounds the string
  od::raw_json_string raw;
  if (v.get_raw_json_string().get(raw) != simdjson::SUCCESS) return fail("expected a string");
  const size_t exact = token.size() >= 2 && token.back() == '"' ? token.size() - 2 : kUnknownLength;
  if (emit_string(raw.raw(), token.size(), exact, w) == nullptr) return fail("invalid escape in a string");
  return true;
}

bool PageTranscoder::Impl::number_value(od::value v, Writer& w) {
  od::raw_json_string raw;
  if (v.get_raw_json_string().get(raw) != simdjson::SUCCESS) return fail("expected a number in a string");
  const size_t n = number_length(raw.raw());  // the rule of N values
  if (n == 0) return fail("N value is not a number");
  w.ensure(n + kSlack);
  copy_short(raw.raw(), n, w);
  return true;
}

// SS, NS and BS become arrays of strings, numbers and strings; L an array of plain values.
bool PageTranscoder::Impl::list_of(od::value v, Descriptor d, Writer& w, int depth) {
  od::array array;
  DDB2S3_TRY(v.get_array().get(array));
  w.ensure(1 + kSlack);
  w.put('[');
  bool first = true;
  for (auto element_result : array) {
    od::value element;
    DDB2S3_TRY(element_result.get(element));
    if (!first) {
      w.ensure(1 + kSlack);
      w.put(',');
    }
    first = false;
    bool ok = false;
    switch (d) {
      case Descriptor::kNs:
        ok = number_value(element, w);
        break;
      case Descriptor::kL:
        ok = attribute_value(element, w, depth + 1);
        break;
      default:
        ok = string_value(element, w);
        break;
    }
    if (!ok) return false;
  }
  w.ensure(1 + kSlack);
  w.put(']');
  return true;
}

// The key goes back to DynamoDB as ExclusiveStartKey: it is walked as an item is (the plain
// output discarded), so that only a well-formed one is kept, then copied compact from its bytes.
bool PageTranscoder::Impl::last_evaluated_key(od::document& doc, od::value v, std::string& dst) {
  od::object obj;
  const char* const start = v.raw_json_token().data();
  at = start;
  DDB2S3_TRY(v.get_object().get(obj));
  Writer w(discard, Writer::Overwrite{});
  if (!map(obj, w, 0)) return false;
  const char* stop = nullptr;  // the token after the key's closing brace
  DDB2S3_TRY(doc.current_location().get(stop));
  const std::string_view raw = trim_right({start, static_cast<size_t>(stop - start)}, is_json_space);
  dst.resize(raw.size() + kSlack);
  size_t len = 0;
  DDB2S3_TRY(simdjson::minify(raw.data(), raw.size(), dst.data(), len));
  dst.resize(len);
  return true;
}

// The read capacity the page used (what a read rate limit settles on): the top-level CapacityUnits; the
// rest (TableName, per-index figures) is walked as unused values are.
bool PageTranscoder::Impl::consumed_capacity(od::value v, PageInfo& info) {
  od::object obj;
  at = v.raw_json_token().data();
  DDB2S3_TRY(v.get_object().get(obj));
  for (auto field_result : obj) {
    od::field field;
    DDB2S3_TRY(std::move(field_result).get(field));
    if (field.key() == "CapacityUnits") {
      double units = 0;
      DDB2S3_TRY(field.value().get_double().get(units));
      info.consumed_capacity_units = units;
    } else if (!unused_value(field.value(), 1)) {
      return false;
    }
  }
  return true;
}

// Walks a value the page has no use for (ConsumedCapacity and the like) so that its grammar is
// checked. Left to the parent's skip, which counts brackets, a string followed by ':' would be
// taken for a key and the fields after it swallowed unread, Items included.
bool PageTranscoder::Impl::unused_value(od::value v, int depth) {
  if (depth > kMaxNesting) return fail("values nested too deep");
  at = v.raw_json_token().data();
  od::json_type type;
  DDB2S3_TRY(v.type().get(type));
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      DDB2S3_TRY(v.get_object().get(obj));
      for (auto field_result : obj) {
        od::field field;
        DDB2S3_TRY(std::move(field_result).get(field));
        if (!unused_value(field.value(), depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array array;
      DDB2S3_TRY(v.get_array().get(array));
      for (auto element_result : array) {
        od::value element;
        DDB2S3_TRY(element_result.get(element));
        if (!unused_value(element, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      od::raw_json_string raw;
      DDB2S3_TRY(v.get_raw_json_string().get(raw));
      return escapes_valid(raw.raw()) || fail("invalid escape in a string");
    }
    case od::json_type::number: {  // checked in place; the parent's skip takes its one token
      const std::string_view token = trim_right(v.raw_json_token(), is_json_space);
      if (number_end(token.data()) != token.data() + token.size()) return fail("malformed number");
      return true;
    }
    case od::json_type::boolean: {
      bool b = false;
      DDB2S3_TRY(v.get_bool().get(b));
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      DDB2S3_TRY(v.is_null().get(is_null));
      return is_null || fail("expected null");
    }
  }
  return fail("unexpected value");
}

#undef DDB2S3_TRY

Error PageTranscoder::Impl::error(std::string_view body) const {
  size_t pos = at == nullptr ? 0 : static_cast<size_t>(at - body.data());
  if (pos > body.size()) pos = body.size();
  const size_t from = pos > kExcerptBefore ? pos - kExcerptBefore : 0;
  const size_t to = std::min(body.size(), pos + kExcerptAfter);
  std::string excerpt;
  for (size_t i = from; i < to; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    excerpt += (c < 0x20 || c == 0x7F) ? '.' : static_cast<char>(c);
  }
  std::string message = "malformed Scan response: ";
  if (failed_field != nullptr) message += std::string(failed_field) + ": ";
  message += failure != nullptr ? failure : "unknown error";
  message += " near byte " + std::to_string(pos) + ": '" + excerpt + "'";
  return Error::make(ErrorKind::kInternal, "MalformedScanResponse", std::move(message));
}

PageTranscoder::PageTranscoder(OutputFormat format) : impl_(std::make_unique<Impl>(format)) {}
PageTranscoder::~PageTranscoder() = default;
PageTranscoder::PageTranscoder(PageTranscoder&&) noexcept = default;
PageTranscoder& PageTranscoder::operator=(PageTranscoder&&) noexcept = default;

OutputFormat PageTranscoder::format() const { return impl_->format; }

void PageTranscoder::set_item_callback(ItemCallback fn) { impl_->callback = std::move(fn); }

Result<PageInfo> PageTranscoder::transcode(std::string& body, std::string& out) {
  return impl_->transcode(body, out);
}

}  // namespace ddb2s3

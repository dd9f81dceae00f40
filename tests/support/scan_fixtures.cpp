// Helpers for the end-to-end tests of scan mode: see scan_fixtures.h. Independent of the code under test
// where it reads output: zlib and libzstd decompress, a small JSON reader of its own parses.
#include "support/scan_fixtures.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aws/session.h"
#include "dynamodb/dynamodb.h"
#include "s3/s3.h"
#include "support/servers.h"

namespace ddb2s3::testing {

namespace fs = std::filesystem;

// ---- JSON ----

const Json* Json::find(std::string_view name) const {
  for (const auto& [k, v] : members)
    if (k == name) return &v;
  return nullptr;
}

namespace {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  Result<Json> document() {
    Json v;
    if (!value(v, 0)) return error();
    skip_ws();
    if (pos_ != s_.size()) return fail("text after the value");
    return v;
  }

 private:
  bool value(Json& out, int depth) {
    if (depth > 200) return fail_b("nested too deeply");
    skip_ws();
    if (pos_ >= s_.size()) return fail_b("unexpected end");
    char c = s_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out.kind = Json::Kind::kString;
      return string(out.text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        out.kind = word == "null" ? Json::Kind::kNull : Json::Kind::kBool;
        out.text = std::string(word);
        return true;
      }
    }
    return fail_b("unexpected character");
  }

  bool object(Json& out, int depth) {
    out.kind = Json::Kind::kObject;
    ++pos_;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      if (peek() != '"') return fail_b("expected a member name");
      std::string name;
      if (!string(name)) return false;
      skip_ws();
      if (peek() != ':') return fail_b("expected ':'");
      ++pos_;
      Json v;
      if (!value(v, depth + 1)) return false;
      out.members.push_back({std::move(name), std::move(v)});
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail_b("expected ',' or '}'");
    }
  }

  bool array(Json& out, int depth) {
    out.kind = Json::Kind::kArray;
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Json v;
      if (!value(v, depth + 1)) return false;
      out.elements.push_back(std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail_b("expected ',' or ']'");
    }
  }

  bool number(Json& out) {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (is_digit(peek())) {
      while (is_digit(peek())) ++pos_;
    } else {
      return fail_b("bad number");
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) return fail_b("bad fraction");
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) return fail_b("bad exponent");
      while (is_digit(peek())) ++pos_;
    }
    out.kind = Json::Kind::kNumber;
    out.text = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(uint32_t& v) {
    if (pos_ + 4 > s_.size()) return fail_b("short \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return fail_b("bad \\u escape");
    }
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
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

  bool string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return fail_b("raw control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= s_.size()) break;
      char e = s_[pos_++];
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
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (s_.substr(pos_, 2) != "\\u") return fail_b("lone high surrogate");
            pos_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail_b("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return fail_b("lone low surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return fail_b("bad escape");
      }
    }
    return fail_b("unterminated string");
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool fail_b(const char* why) {
    if (why_.empty()) why_ = std::string(why) + " at offset " + std::to_string(pos_);
    return false;
  }
  Error fail(const char* why) {
    fail_b(why);
    return error();
  }
  Error error() const {
    return Error::make(ErrorKind::kInternal, "BadJson",
                       why_ + " in: " + std::string(s_.substr(0, std::min<size_t>(s_.size(), 300))));
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string why_;
};

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string join_array(std::vector<std::string> parts, bool sorted) {
  if (sorted) std::sort(parts.begin(), parts.end());
  std::string out = "[";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out + "]";
}

std::string join_object(std::vector<std::pair<std::string, std::string>> members) {
  std::sort(members.begin(), members.end());
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += ',';
    append_string(out, members[i].first);
    out += ':';
    out += members[i].second;
  }
  return out + "}";
}

// The single "TYPE": value member of a typed attribute value, or null when it is not one.
const Json::Member* typed_member(const Json& v) {
  if (!v.is(Json::Kind::kObject) || v.members.size() != 1) return nullptr;
  return &v.members.front();
}

std::string canonical_typed_value(const Json& v) {
  const auto* m = typed_member(v);
  if (m == nullptr) return "<not a typed value: " + canonical_json(v) + ">";
  const auto& [type, x] = *m;
  std::string inner;
  if ((type == "SS" || type == "NS" || type == "BS") && x.is(Json::Kind::kArray)) {
    std::vector<std::string> parts;
    for (const auto& e : x.elements) parts.push_back(canonical_json(e));
    inner = join_array(std::move(parts), true);
  } else if (type == "L" && x.is(Json::Kind::kArray)) {
    std::vector<std::string> parts;
    for (const auto& e : x.elements) parts.push_back(canonical_typed_value(e));
    inner = join_array(std::move(parts), false);
  } else if (type == "M" && x.is(Json::Kind::kObject)) {
    inner = canonical_typed_item(x);
  } else {
    inner = canonical_json(x);
  }
  return join_object({{type, inner}});
}

std::string expected_plain_value(const Json& v) {
  const auto* m = typed_member(v);
  if (m == nullptr) return "<not a typed value: " + canonical_json(v) + ">";
  const auto& [type, x] = *m;
  if (type == "N") return x.text;  // the digits as the number token
  if (type == "S" || type == "B") return canonical_json(x);
  if (type == "BOOL") return x.text;
  if (type == "NULL") return "null";
  if (type == "SS" || type == "NS" || type == "BS") {
    std::vector<std::string> parts;
    for (const auto& e : x.elements) parts.push_back(type == "NS" ? e.text : canonical_json(e));
    return join_array(std::move(parts), true);
  }
  if (type == "L") {
    std::vector<std::string> parts;
    for (const auto& e : x.elements) parts.push_back(expected_plain_value(e));
    return join_array(std::move(parts), false);
  }
  if (type == "M") return expected_plain_item(x);
  return "<unknown type " + type + ">";
}

std::string canonical_plain_value(const Json& plain, const Json& typed) {
  const auto* m = typed_member(typed);
  if (m != nullptr) {
    const auto& [type, x] = *m;
    if ((type == "SS" || type == "NS" || type == "BS") && plain.is(Json::Kind::kArray)) {
      std::vector<std::string> parts;
      for (const auto& e : plain.elements) parts.push_back(canonical_json(e));
      return join_array(std::move(parts), true);
    }
    if (type == "L" && plain.is(Json::Kind::kArray) && x.elements.size() == plain.elements.size()) {
      std::vector<std::string> parts;
      for (size_t i = 0; i < plain.elements.size(); ++i)
        parts.push_back(canonical_plain_value(plain.elements[i], x.elements[i]));
      return join_array(std::move(parts), false);
    }
    if (type == "M" && plain.is(Json::Kind::kObject)) return canonical_plain_item(plain, x);
  }
  return canonical_json(plain);
}

std::string repeat(char c, size_t n) { return std::string(n, c); }

}  // namespace

Result<Json> parse_json(std::string_view text) { return JsonReader(text).document(); }

std::string canonical_json(const Json& v) {
  switch (v.kind) {
    case Json::Kind::kNull:
      return "null";
    case Json::Kind::kBool:
    case Json::Kind::kNumber:
      return v.text;
    case Json::Kind::kString: {
      std::string out;
      append_string(out, v.text);
      return out;
    }
    case Json::Kind::kArray: {
      std::vector<std::string> parts;
      for (const auto& e : v.elements) parts.push_back(canonical_json(e));
      return join_array(std::move(parts), false);
    }
    case Json::Kind::kObject: {
      std::vector<std::pair<std::string, std::string>> members;
      for (const auto& [k, e] : v.members) members.emplace_back(k, canonical_json(e));
      return join_object(std::move(members));
    }
  }
  return "?";
}

std::string canonical_typed_item(const Json& item) {
  if (!item.is(Json::Kind::kObject)) return "<not an item: " + canonical_json(item) + ">";
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [k, v] : item.members) members.emplace_back(k, canonical_typed_value(v));
  return join_object(std::move(members));
}

std::string expected_plain_item(const Json& item) {
  if (!item.is(Json::Kind::kObject)) return "<not an item: " + canonical_json(item) + ">";
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [k, v] : item.members) members.emplace_back(k, expected_plain_value(v));
  return join_object(std::move(members));
}

std::string canonical_plain_item(const Json& plain, const Json& typed) {
  if (!plain.is(Json::Kind::kObject)) return canonical_json(plain);
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [k, v] : plain.members) {
    const Json* t = typed.find(k);
    members.emplace_back(k, t ? canonical_plain_value(v, *t) : canonical_json(v));
  }
  return join_object(std::move(members));
}

// ---- items ----

std::vector<TestItem> every_type_items() {
  std::vector<TestItem> items;
  auto add = [&](std::string id, std::string attrs, std::string expected_attrs = "") {
    std::string key = "\"id\":{\"S\":\"" + id + "\"}";
    std::string written = "{" + key + (attrs.empty() ? "" : "," + attrs) + "}";
    std::string expected = expected_attrs.empty() ? written : "{" + key + "," + expected_attrs + "}";
    items.push_back({std::move(id), std::move(written), std::move(expected)});
  };
  // Numbers: as written, and as DynamoDB (dynalite) stores and returns them.
  const std::string tiny = "0." + repeat('0', 129) + "1";
  const std::vector<std::pair<std::string, std::string>> numbers = {
      {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
      {"-12345678901234567890123456789012345678", "-12345678901234567890123456789012345678"},
      {"-0.00000000000000000000000000000000000001", "-0.00000000000000000000000000000000000001"},
      {"0.12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678"},
      {"-0.1", "-0.1"},
      {"1E-130", tiny},
      {"-1E-130", "-" + tiny},
      {"9.9999999999999999999999999999999999999E+125", repeat('9', 38) + repeat('0', 88)},
      {"0", "0"},
      {"-7", "-7"},
      {"1.50", "1.5"},
      {"1e5", "100000"},
      {"123.4560", "123.456"},
      {"3.1415926535897932384626433832795028841", "3.1415926535897932384626433832795028841"},
  };
  for (size_t i = 0; i < numbers.size(); ++i)
    add("num-" + std::to_string(i), "\"n\":{\"N\":\"" + numbers[i].first + "\"}",
        "\"n\":{\"N\":\"" + numbers[i].second + "\"}");
  // Strings: multi-byte UTF-8, emoji (raw and as an escaped surrogate pair), quotes, backslashes, controls.
  const std::vector<std::string> strings = {
      "plain",
      "",
      "h\xC3\xA9llo w\xC3\xB6rld \xC3\xB1",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88",
      "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 end",
      "escaped pair \\ud83d\\ude00 and \\u00e9",
      "quote \\\" inside \\\"",
      "back\\\\slash \\\\\\\\ two",
      "controls \\u0001 \\u001f nl\\n tab\\t cr\\r bs\\b ff\\f",
      "del \x7F and \\u2028 and \\/ slash",
      "</script> & <b>",
  };
  for (size_t i = 0; i < strings.size(); ++i)
    add("str-" + std::to_string(i), "\"s\":{\"S\":\"" + strings[i] + "\"}");
  add("bin-0", "\"b\":{\"B\":\"AAECA/8=\"}");
  add("bin-1", "\"b\":{\"B\":\"\"}");
  add("bin-2", "\"b\":{\"B\":\"3q2+7w==\"}");
  add("bool-t", "\"t\":{\"BOOL\":true},\"f\":{\"BOOL\":false}");
  add("null", "\"z\":{\"NULL\":true}");
  add("sets",
      "\"ss\":{\"SS\":[\"a\",\"b\",\"\xC3\xBC\",\"\xF0\x9F\x98\x80\",\"q\\\"\"]},"
      "\"ns\":{\"NS\":[\"1\",\"2.5\",\"-3\",\"12345678901234567890123456789012345678\"]},"
      "\"bs\":{\"BS\":[\"AAE=\",\"/w==\",\"3q2+7w==\"]}");
  add("empty-ml", "\"m\":{\"M\":{}},\"l\":{\"L\":[]}");
  const std::string nested =
      "\"deep\":{\"M\":{\"a\":{\"M\":{\"b\":{\"L\":[{\"M\":{\"c\":{\"L\":["
      "{\"N\":\"-0.5\"},{\"S\":\"x\\ty\"},{\"BOOL\":false},{\"NULL\":true},{\"M\":{}},{\"L\":[]},"
      "{\"SS\":[\"p\",\"q\"]},{\"NS\":[\"10\",\"-1\"]},{\"B\":\"AA==\"},"
      "{\"L\":[{\"L\":[{\"N\":\"12345678901234567890123456789012345678\"}]}]}"
      "]}}},{\"S\":\"second\"}]},\"e\":{\"M\":{}}}},\"z\":{\"N\":\"0\"}}}";
  add("nested", nested);
  add("names",
      "\"n\\u00e4me \\\"q\\\"\":{\"S\":\"v\"},\"back\\\\slash\":{\"N\":\"1\"},"
      "\"\xF0\x9F\x94\x91\":{\"S\":\"emoji name\"}");
  add("all",
      "\"s\":{\"S\":\"\xE2\x82\xAC 100\"},\"n\":{\"N\":\"42\"},\"b\":{\"B\":\"aGk=\"},"
      "\"t\":{\"BOOL\":true},\"z\":{\"NULL\":true},\"ss\":{\"SS\":[\"one\"]},\"ns\":{\"NS\":[\"0\"]},"
      "\"bs\":{\"BS\":[\"AA==\"]},\"l\":{\"L\":[{\"S\":\"x\"},{\"N\":\"1\"}]},"
      "\"m\":{\"M\":{\"k\":{\"S\":\"v\"},\"e\":{\"L\":[]}}}");
  return items;
}

std::vector<TestItem> simple_items(int count, size_t pad_bytes) {
  std::vector<TestItem> items;
  items.reserve(count);
  uint32_t state = 12345;  // letters from a fixed LCG: output that compresses about as real data does
  for (int i = 0; i < count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "item-%05d", i);
    std::string pad(pad_bytes, ' ');
    for (char& c : pad) {
      state = state * 1103515245u + 12345u;
      c = static_cast<char>('a' + (state >> 16) % 26);
    }
    std::string json = std::string("{\"id\":{\"S\":\"") + id + "\"},\"n\":{\"N\":\"" + std::to_string(i) +
                       "\"},\"g\":{\"S\":\"" + (i % 2 ? "odd" : "even") + "\"},\"pad\":{\"S\":\"" + pad +
                       "\"}}";
    items.push_back({id, json, json});
  }
  return items;
}

// ---- servers ----

struct LocalAws::Clients {
  std::shared_ptr<ServiceConfig> dynamodb;
  std::shared_ptr<ServiceConfig> s3;
};

LocalAws::LocalAws() : clients_(std::make_unique<Clients>()) {
  vars_ = {{"AWS_ACCESS_KEY_ID", kTestAccessKey},
           {"AWS_SECRET_ACCESS_KEY", kTestSecretKey},
           {"AWS_REGION", kTestRegion},
           {"HOME", home_.path()},
           {"AWS_EC2_METADATA_DISABLED", "true"}};
  env_ = Environment::from(vars_);
  const LocalServers& servers = local_servers();
  auto ddb = make_service_config("dynamodb", AwsOptions{"", "", servers.dynamodb}, env_);
  auto s3 = make_service_config("s3", AwsOptions{"", "", servers.s3}, env_);
  if (!ddb || !s3) {
    ADD_FAILURE() << "cannot configure the local servers: " << (!ddb ? ddb.error() : s3.error()).to_string();
    return;
  }
  clients_->dynamodb = *ddb;
  clients_->s3 = *s3;
}

LocalAws::~LocalAws() = default;

const std::string& LocalAws::dynamodb_endpoint() const { return local_servers().dynamodb; }
const std::string& LocalAws::s3_endpoint() const { return local_servers().s3; }

std::vector<std::string> LocalAws::scan_argv(const std::string& table, const std::string& dest,
                                             const std::vector<std::string>& extra) const {
  std::vector<std::string> a = {
      "scan",       table, dest, "--source-endpoint-url", dynamodb_endpoint(), "--dest-endpoint-url",
      s3_endpoint()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

ScanOptions LocalAws::scan_options(const std::string& table, const Destination& dest) const {
  ScanOptions o;
  o.table = table;
  o.source.endpoint_url = dynamodb_endpoint();
  o.dest = dest;
  o.dest_aws.endpoint_url = s3_endpoint();
  o.env = env_;
  return o;
}

FinalizeOptions LocalAws::finalize_options(const Destination& dest, const std::string& run_id) const {
  FinalizeOptions o;
  o.dest = dest;
  o.dest_aws.endpoint_url = s3_endpoint();
  o.run_id = run_id;
  o.env = env_;
  return o;
}

Status LocalAws::create_table(const std::string& table, bool with_index) {
  DynamoDbClient ddb(clients_->dynamodb);
  CreateTableRequest req;
  req.table_name = table;
  req.hash_key = {"id", "S"};
  if (with_index) req.global_secondary_indexes.push_back({"by-g", {"g", "S"}, std::nullopt});
  if (auto s = ddb.create_table(req); !s) return s;
  auto active = ddb.wait_until_active(table);
  if (!active) return std::move(active).error();
  return {};
}

Status LocalAws::put_items(const std::string& table, const std::vector<TestItem>& items) {
  DynamoDbClient ddb(clients_->dynamodb);
  std::vector<std::string> json;
  json.reserve(items.size());
  for (const auto& i : items) json.push_back(i.written);
  return ddb.batch_write(table, json);
}

std::string LocalAws::make_table(const std::string& prefix, const std::vector<TestItem>& items,
                                 bool with_index) {
  std::string table = unique_name(prefix);
  if (auto s = create_table(table, with_index); !s) ADD_FAILURE() << s.error().to_string();
  if (!items.empty()) {
    if (auto s = put_items(table, items); !s) ADD_FAILURE() << s.error().to_string();
  }
  return table;
}

Status LocalAws::create_bucket(const std::string& bucket) {
  return S3Client(clients_->s3).create_bucket(bucket);
}

std::string LocalAws::make_bucket(const std::string& prefix) {
  std::string bucket = unique_name(prefix);
  if (auto s = create_bucket(bucket); !s) ADD_FAILURE() << s.error().to_string();
  return bucket;
}

Result<std::vector<LocalAws::Stored>> LocalAws::read_all(const Destination& dest,
                                                         const std::string& relative_prefix) {
  std::vector<Stored> out;
  std::string prefix = dest.key(relative_prefix);
  if (dest.is_s3) {
    S3Client s3(clients_->s3);
    auto listed = s3.list_objects(dest.bucket, prefix);
    if (!listed) return std::move(listed).error();
    for (const auto& o : *listed) {
      Stored s{o.key, o.etag, o.size, {}};
      if (auto st = s3.get_object(dest.bucket, o.key, s.bytes); !st) return std::move(st).error();
      out.push_back(std::move(s));
    }
  } else {
    fs::path root(dest.directory);
    std::error_code ec;
    if (!fs::exists(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = fs::relative(it->path(), root).generic_string();
      if (rel.compare(0, prefix.size(), prefix) != 0) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      Stored s{rel, "", 0, ss.str()};
      s.size = s.bytes.size();
      out.push_back(std::move(s));
    }
    if (ec) return Error::io("cannot list " + root.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end(), [](const Stored& a, const Stored& b) { return a.key < b.key; });
  return out;
}

Result<std::optional<std::string>> LocalAws::read(const Destination& dest, const std::string& relative_key) {
  std::string key = dest.key(relative_key);
  if (!dest.is_s3) {
    std::ifstream in(fs::path(dest.directory) / key, std::ios::binary);
    if (!in) return std::optional<std::string>{};
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::optional<std::string>(ss.str());
  }
  S3Client s3(clients_->s3);
  std::string body;
  if (auto st = s3.get_object(dest.bucket, key, body); !st) {
    if (st.error().http_status == 404) return std::optional<std::string>{};
    return std::move(st).error();
  }
  return std::optional<std::string>(std::move(body));
}

// ---- data files ----

Result<std::string> decompress(std::string_view bytes, Compression compression) {
  if (compression == Compression::kNone) return std::string(bytes);
  std::string out;
  if (compression == Compression::kGzip) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Error::internal("inflateInit2 failed");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    char buf[65536];
    int rc = Z_OK;
    while (true) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
      if (rc == Z_STREAM_END) {
        if (z.avail_in == 0) break;
        inflateReset(&z);  // another gzip member follows
        continue;
      }
      if (rc != Z_OK) break;
      if (z.avail_in == 0 && z.avail_out != 0) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
      return Error::internal("not a complete gzip stream (zlib rc " + std::to_string(rc) + ")");
    return out;
  }
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(last)) {
      std::string why = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(ctx);
      return Error::internal("zstd: " + why);
    }
    out.append(buf.data(), o.pos);
  }
  while (last != 0) {  // flush what the decoder still holds
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(last)) break;
    out.append(buf.data(), o.pos);
    if (o.pos == 0) break;
  }
  ZSTD_freeDCtx(ctx);
  if (last != 0) return Error::internal("not a complete zstd frame");
  return out;
}

Result<std::vector<std::string>> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  if (text.back() != '\n') return Error::internal("the text does not end with a newline");
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

Result<std::vector<std::string>> read_run_lines(LocalAws& aws, const Destination& dest,
                                                const std::string& run_id, Compression compression) {
  auto files = aws.read_all(dest, run_id + "/data/");
  if (!files) return std::move(files).error();
  std::vector<std::string> lines;
  for (const auto& f : *files) {
    auto text = decompress(f.bytes, compression);
    if (!text) return Error::internal(f.key + ": " + text.error().message);
    auto part = split_lines(*text);
    if (!part) return Error::internal(f.key + ": " + part.error().message);
    lines.insert(lines.end(), part->begin(), part->end());
  }
  return lines;
}

}  // namespace ddb2s3::testing

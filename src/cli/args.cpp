#include "cli/args.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <map>

#include "base/json_writer.h"
#include "base/strings.h"

namespace ddb2s3::cli {
namespace od = simdjson::ondemand;

Result<uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    std::string message(1, '\'');  // built by appends: GCC 12 warns falsely (-Wrestrict) on "'" + string
    message.append(text).append("' is not a size: give bytes (1000) or a number with a unit (64MiB, 1GB, 512KiB)");
    return Error::usage(std::move(message));
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return bad();
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i) return bad();
  std::string unit = to_lower(text.substr(i));
  std::erase(unit, ' ');
  static const std::map<std::string, double> kUnits = {
      {"", 1},          {"b", 1},         {"k", 1e3},       {"kb", 1e3},        {"m", 1e6},
      {"mb", 1e6},      {"g", 1e9},       {"gb", 1e9},      {"t", 1e12},        {"tb", 1e12},
      {"ki", 1024.0},   {"kib", 1024.0},  {"mi", 1048576.0}, {"mib", 1048576.0}, {"gi", 1073741824.0},
      {"gib", 1073741824.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return bad();
  double bytes = std::floor(number * it->second);
  if (bytes < 1) return Error::usage("a size of '" + std::string(text) + "' is less than 1 byte");
  if (bytes > 1e18) return bad();
  return static_cast<uint64_t>(bytes);
}

namespace {

Status marshal_value(od::value v, std::string& out, int depth) {
  if (depth > 32) return Error::usage("--values nests deeper than DynamoDB's 32 levels");
  od::json_type type;
  if (v.type().get(type)) return Error::usage("--values is not valid JSON");
  switch (type) {
    case od::json_type::number: {
      std::string_view raw = v.raw_json_token();
      raw = trim_right(raw, is_json_space);
      out += "{\"N\":\"";
      out += raw;
      out += "\"}";
      return {};
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Error::usage("--values holds an invalid string");
      out += "{\"S\":";
      append_json_string(out, s);
      out += '}';
      return {};
    }
    case od::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b)) return Error::usage("--values holds an invalid boolean");
      out += b ? "{\"BOOL\":true}" : "{\"BOOL\":false}";
      return {};
    }
    case od::json_type::null:
      if (!v.is_null()) return Error::usage("--values holds an invalid null");
      out += "{\"NULL\":true}";
      return {};
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return Error::usage("--values holds an invalid array");
      out += "{\"L\":[";
      bool first = true;
      for (auto element : a) {
        od::value e;
        if (element.get(e)) return Error::usage("--values holds an invalid array");
        if (!first) out += ',';
        first = false;
        if (auto s = marshal_value(e, out, depth + 1); !s) return s;
      }
      out += "]}";
      return {};
    }
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return Error::usage("--values holds an invalid object");
      out += "{\"M\":{";
      bool first = true;
      for (auto field : o) {
        std::string_view key;
        od::value e;
        if (field.unescaped_key().get(key) || field.value().get(e)) return Error::usage("--values holds an invalid object");
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        if (auto s = marshal_value(e, out, depth + 1); !s) return s;
      }
      out += "}}";
      return {};
    }
  }
  return Error::usage("--values holds a value of an unknown type");
}

// The raw text of any value (object, array or scalar), for passing fields through verbatim.
Result<std::string_view> raw_value(od::value v) {
  od::json_type type;
  if (v.type().get(type)) return Error::usage("--scan-kwargs is not valid JSON");
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o) || o.raw_json().get(raw)) return Error::usage("--scan-kwargs holds an invalid object");
  } else if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return Error::usage("--scan-kwargs holds an invalid array");
  } else {
    raw = v.raw_json_token();
    raw = trim_right(raw);
  }
  return raw;
}

}  // namespace

Result<std::string> marshal_plain_values(std::string_view json) {
  od::parser parser;
  simdjson::padded_string padded(json);
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root))
    return Error::usage("--values must be a JSON object such as '{\":min\": 5, \":name\": \"x\"}'");
  std::string out = "{";
  bool first = true;
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return Error::usage("--values is not valid JSON");
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    DDB2S3_RETURN_IF_ERROR(marshal_value(v, out, 1));
  }
  out += '}';
  return out;
}

std::string flag_for_field(std::string_view field) {
  static const std::map<std::string_view, std::string_view> kFlags = {
      {"FilterExpression", "--filter"},
      {"ProjectionExpression", "--projection"},
      {"ExpressionAttributeNames", "--names"},
      {"ExpressionAttributeValues", "--values"},
      {"IndexName", "--index"},
      {"ConsistentRead", "--consistent-read"},
      {"Limit", "--page-size"},
      {"Segment", "--segment"},
      {"TotalSegments", "--total-segments"},
  };
  auto it = kFlags.find(field);
  return it == kFlags.end() ? std::string(field) : std::string(it->second);
}

Status apply_scan_kwargs(std::string_view json, const GivenFlags& flags, ScanOptions& o) {
  od::parser parser;
  simdjson::padded_string padded(json);
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root))
    return Error::usage("--scan-kwargs must be a JSON object of Scan fields, e.g. '{\"FilterExpression\": \"#s = :v\"}'");
  std::string extra = "{";
  for (auto field : root) {
    std::string_view name_view;
    od::value v;
    if (field.unescaped_key().get(name_view) || field.value().get(v))
      return Error::usage("--scan-kwargs is not valid JSON");
    std::string name(name_view);
    if (flags.fields.count(name))
      return Error::usage(name + " is given twice: by " + flag_for_field(name) + " and in --scan-kwargs; keep one");
    auto string_field = [&](std::string& target) -> Status {
      std::string_view s;
      if (v.get_string().get(s)) return Error::usage("--scan-kwargs: " + name + " must be a string");
      target = std::string(s);
      return {};
    };
    auto object_field = [&](std::string& target) -> Status {
      od::object obj;
      std::string_view raw;
      if (v.get_object().get(obj) || obj.raw_json().get(raw))
        return Error::usage("--scan-kwargs: " + name + " must be a JSON object");
      target = std::string(raw);
      return {};
    };
    auto int_field = [&](int64_t& target) -> Status {
      if (v.get_int64().get(target)) return Error::usage("--scan-kwargs: " + name + " must be an integer");
      return {};
    };
    Status s;
    ScanRequest& r = o.request;
    if (name == "TableName") {
      std::string t;
      s = string_field(t);
      if (s && t != o.table)
        return Error::usage("--scan-kwargs names table '" + t + "' but the command names '" + o.table + "'");
    } else if (name == "IndexName") {
      s = string_field(r.index_name);
    } else if (name == "FilterExpression") {
      s = string_field(r.filter_expression);
    } else if (name == "ProjectionExpression") {
      s = string_field(r.projection_expression);
    } else if (name == "Select") {
      s = string_field(r.select);
    } else if (name == "ReturnConsumedCapacity") {
      s = string_field(r.return_consumed_capacity);
    } else if (name == "ExpressionAttributeNames") {
      s = object_field(r.expression_attribute_names_json);
    } else if (name == "ExpressionAttributeValues") {
      s = object_field(r.expression_attribute_values_json);
    } else if (name == "ExclusiveStartKey") {
      s = object_field(r.exclusive_start_key_json);
    } else if (name == "ConsistentRead") {
      bool b = false;
      if (v.get_bool().get(b)) return Error::usage("--scan-kwargs: ConsistentRead must be true or false");
      r.consistent_read = b;
    } else if (name == "Limit") {
      int64_t n = 0;
      s = int_field(n);
      if (s) r.limit = n;
    } else if (name == "Segment") {
      int64_t n = 0;
      s = int_field(n);
      if (s) o.segment = static_cast<int>(n);
    } else if (name == "TotalSegments") {
      int64_t n = 0;
      s = int_field(n);
      if (s) o.total_segments = static_cast<int>(n);
    } else {
      DDB2S3_ASSIGN_OR_RETURN(auto raw, raw_value(v));
      if (extra.size() > 1) extra += ',';
      append_json_string(extra, name);
      extra += ':';
      extra += raw;
    }
    if (!s) return s;
  }
  extra += '}';
  if (extra.size() > 2) o.request.extra_json = std::move(extra);
  return {};
}

}  // namespace ddb2s3::cli

#include "cli/args.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "base/json_args.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "scan/parallel.h"

namespace ddb2s3::cli {

Result<uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    std::string message(1, '\'');  // built by appends: GCC 12 warns falsely (-Wrestrict) on "'" + string
    message.append(text).append(
        "' is not a size: give bytes (1000) or a number with a unit (64MiB, 1GB, 512KiB)");
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
  static const std::map<std::string, double> kUnits = {{"", 1},
                                                       {"b", 1},
                                                       {"k", 1e3},
                                                       {"kb", 1e3},
                                                       {"m", 1e6},
                                                       {"mb", 1e6},
                                                       {"g", 1e9},
                                                       {"gb", 1e9},
                                                       {"t", 1e12},
                                                       {"tb", 1e12},
                                                       {"ki", 1024.0},
                                                       {"kib", 1024.0},
                                                       {"mi", 1048576.0},
                                                       {"mib", 1048576.0},
                                                       {"gi", 1073741824.0},
                                                       {"gib", 1073741824.0},
                                                       {"ti", 1099511627776.0},
                                                       {"tib", 1099511627776.0}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return bad();
  double bytes = std::floor(number * it->second);
  if (bytes < 1) return Error::usage("a size of '" + std::string(text) + "' is less than 1 byte");
  if (bytes > 1e18) return bad();
  return static_cast<uint64_t>(bytes);
}

Result<double> parse_seconds(std::string_view text, std::string_view flag, double max) {
  double seconds = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(seconds >= 0) ||
      seconds > max) {
    std::string message(flag);  // built by appends: GCC 12 warns falsely (-Wrestrict) on string + "..."
    message.append(" must be a number of seconds from 0 to ")
        .append(std::to_string(static_cast<long long>(max)));
    message.append(", not '").append(text).append("'");
    return Error::usage(std::move(message));
  }
  return seconds;
}

namespace {

using Kind = JsonValue::Kind;

Status marshal_members(const JsonValue& object, std::string& out, int depth);

Status marshal_value(const JsonValue& v, std::string& out, int depth) {
  if (depth > 32) return Error::usage("--values nests deeper than DynamoDB's 32 levels");
  switch (v.kind) {
    case Kind::kNumber:  // the digits as written: JSON's grammar is checked, DynamoDB judges the value
      out += "{\"N\":\"";
      out += v.text;
      out += "\"}";
      return {};
    case Kind::kString:
      out += "{\"S\":";
      append_json_string(out, v.string);
      out += '}';
      return {};
    case Kind::kBool:
      out += v.boolean ? "{\"BOOL\":true}" : "{\"BOOL\":false}";
      return {};
    case Kind::kNull:
      out += "{\"NULL\":true}";
      return {};
    case Kind::kArray: {
      out += "{\"L\":[";
      bool first = true;
      for (const JsonValue& e : v.elements) {
        if (!first) out += ',';
        first = false;
        if (auto s = marshal_value(e, out, depth + 1); !s) return s;
      }
      out += "]}";
      return {};
    }
    case Kind::kObject:
      out += "{\"M\":";
      DDB2S3_RETURN_IF_ERROR(marshal_members(v, out, depth + 1));
      out += '}';
      return {};
  }
  return Error::internal("--values holds a value of an unknown kind");
}

// An object's members, each value marshalled: {"k":<typed>,...}.
Status marshal_members(const JsonValue& object, std::string& out, int depth) {
  out += '{';
  bool first = true;
  for (const auto& [key, v] : object.members) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    DDB2S3_RETURN_IF_ERROR(marshal_value(v, out, depth));
  }
  out += '}';
  return {};
}

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Result<std::string> marshal_plain_values(std::string_view json) {
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue root, parse_json_arg(json, "--values"));
  if (!root.is(Kind::kObject))
    return Error::usage("--values must be a JSON object such as '{\":min\": 5, \":name\": \"x\"}', not " +
                        root.describe());
  std::string out;
  DDB2S3_RETURN_IF_ERROR(marshal_members(root, out, 1));
  return out;
}

Result<std::string> attribute_names(std::string_view json, std::string_view flag) {
  const std::string name(flag);
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue root, parse_json_arg(json, name));
  if (!root.is(Kind::kObject))
    return Error::usage(name + " must be a JSON object of strings such as '{\"#s\": \"status\"}', not " +
                        root.describe());
  for (const auto& [key, v] : root.members) {
    if (!v.is(Kind::kString))
      return Error::usage(name + ": '" + key + "' must be a string (an attribute name), not " + v.describe());
  }
  return std::string(root.text);
}

Status apply_scan_kwargs(std::string_view json, const GivenFlags& flags, ScanOptions& o) {
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue root, parse_json_arg(json, "--scan-kwargs"));
  if (!root.is(Kind::kObject))
    return Error::usage("--scan-kwargs must be a JSON object of Scan fields, not " + root.describe() +
                        " (e.g. '{\"FilterExpression\": \"#s = :v\"}')");
  std::string extra = "{";
  bool gave_segment = false, gave_total = false;
  for (const auto& member : root.members) {
    // Not a structured binding: clang 14 does not let the lambdas below capture one.
    const std::string& name = member.first;
    const JsonValue& v = member.second;
    if (auto it = flags.fields.find(name); it != flags.fields.end())
      return Error::usage(name + " is given twice: by " + it->second + " and in --scan-kwargs; keep one");
    const std::string what = "--scan-kwargs: " + name;
    auto string_field = [&](std::string& target) -> Status {
      if (!v.is(Kind::kString)) return Error::usage(what + " must be a string, not " + v.describe());
      target = v.string;
      return {};
    };
    auto object_field = [&](std::string& target) -> Status {
      if (!v.is(Kind::kObject)) return Error::usage(what + " must be a JSON object, not " + v.describe());
      target = std::string(v.text);
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
      DDB2S3_ASSIGN_OR_RETURN(r.expression_attribute_names_json, attribute_names(v.text, what));
    } else if (name == "ExpressionAttributeValues") {
      s = object_field(r.expression_attribute_values_json);
    } else if (name == "ExclusiveStartKey") {
      s = object_field(r.exclusive_start_key_json);
    } else if (name == "ConsistentRead") {
      if (!v.is(Kind::kBool)) return Error::usage(what + " must be true or false, not " + v.describe());
      r.consistent_read = v.boolean;
    } else if (name == "Limit") {
      auto n = json_integer(v, 1, INT32_MAX, what);  // DynamoDB's Limit is an Integer
      if (!n) return std::move(n).error();
      r.limit = *n;
    } else if (name == "Segment") {
      auto n = json_integer(v, 0, kMaxTotalSegments - 1, what);
      if (!n) return std::move(n).error();
      o.segment = static_cast<int>(*n);
      gave_segment = true;
    } else if (name == "TotalSegments") {
      auto n = json_integer(v, 1, kMaxTotalSegments, what);
      if (!n) return std::move(n).error();
      o.total_segments = static_cast<int>(*n);
      gave_total = true;
    } else {
      if (extra.size() > 1) extra += ',';
      append_json_string(extra, name);
      extra += ':';
      extra += v.text;  // verbatim: DynamoDB judges the fields we do not know
    }
    if (!s) return s;
  }
  if ((gave_segment || gave_total) && o.segment && *o.segment >= o.total_segments) {
    // One of the two may come from a flag: name each where it was given.
    const std::string segment = gave_segment ? "--scan-kwargs: Segment" : "--segment";
    const std::string total = gave_total ? "TotalSegments" : "--total-segments";
    return Error::usage(segment + " must be from 0 to " + total + " - 1 (" +
                        std::to_string(o.total_segments - 1) + "), not " + std::to_string(*o.segment));
  }
  extra += '}';
  if (extra.size() > 2) o.request.extra_json = std::move(extra);
  return {};
}

Error in_flag_words(Error e, const std::vector<FlagName>& names) {
  if (e.field.empty()) return e;
  const bool known = std::any_of(names.begin(), names.end(), [&](const FlagName& n) {
    return n.option == e.field || n.aws_field == e.field;
  });
  if (!known) return e;
  std::vector<const FlagName*> by_length;  // longest first, so that a phrase wins over its first word
  for (const FlagName& n : names)
    if (!n.option.empty()) by_length.push_back(&n);
  std::stable_sort(by_length.begin(), by_length.end(),
                   [](const FlagName* a, const FlagName* b) { return a->option.size() > b->option.size(); });
  auto rewrite = [&](const std::string& text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      const bool word_start = i == 0 || !is_word(text[i - 1]);
      if (text[i] == '\'' && word_start) {  // a quote (not an apostrophe): what the user gave, kept as is
        const size_t end = text.find('\'', i + 1);
        const size_t stop = end == std::string::npos ? text.size() : end + 1;
        out.append(text, i, stop - i);
        i = stop;
        continue;
      }
      const FlagName* hit = nullptr;
      if (word_start && is_word(text[i])) {
        for (const FlagName* n : by_length) {
          const size_t len = n->option.size();
          if (std::string_view(text).substr(i, len) == n->option &&
              (i + len == text.size() || !is_word(text[i + len]))) {
            hit = n;
            break;
          }
        }
      }
      if (hit != nullptr) {
        out += hit->flag;
        i += hit->option.size();
      } else {
        out += text[i++];
      }
    }
    return out;
  };
  e.message = rewrite(e.message);
  e.hint = rewrite(e.hint);
  return e;
}

int fail(const Error& e, const std::vector<FlagName>& names) {
  const std::string text = in_flag_words(e, names).to_string();
  std::fprintf(stderr, "ddb2s3: %s\n", text.c_str());
  return e.kind == ErrorKind::kUsage ? 2 : 1;
}

}  // namespace ddb2s3::cli

// Request bodies: JSON written by hand (escaped strings, raw fragments checked with simdjson).
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_writer.h"
#include "base/strings.h"
#include "dynamodb/dynamodb.h"

namespace ddb2s3 {
namespace {

// A usage error unless json is one valid JSON object; returns it without surrounding white space.
Result<std::string_view> check_object(simdjson::dom::parser& parser, std::string_view field,
                                      std::string_view json, simdjson::dom::object* parsed = nullptr) {
  const std::string_view text = trim(json, is_json_space);
  simdjson::dom::element element;
  if (auto error = parser.parse(text.data(), text.size()).get(element)) {
    return Error::usage(std::string(field) + " is not valid JSON: " + simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (element.get_object().get(object)) return Error::usage(std::string(field) + " must be a JSON object");
  if (parsed != nullptr) *parsed = object;
  return text;
}

Status check_utf8(std::string_view field, std::string_view value) {
  if (simdjson::validate_utf8(value.data(), value.size())) return {};
  return Error::usage(std::string(field) + " is not valid UTF-8");
}

void append_key_attribute(std::string& out, const KeyAttribute& key, std::string_view key_type) {
  out += "{\"AttributeName\":";
  append_json_string(out, key.name);
  out += ",\"KeyType\":";
  append_json_string(out, key_type);
  out += '}';
}

void append_key_schema(std::string& out, const KeyAttribute& hash, const std::optional<KeyAttribute>& range) {
  out += '[';
  append_key_attribute(out, hash, "HASH");
  if (range) {
    out += ',';
    append_key_attribute(out, *range, "RANGE");
  }
  out += ']';
}

}  // namespace

Result<std::string> build_scan_body(const ScanRequest& request) {
  if (request.table_name.empty()) return Error::usage("Scan needs a table name");
  if (request.segment.has_value() != request.total_segments.has_value()) {
    return Error::usage("Segment and TotalSegments must be given together");
  }
  if (request.total_segments &&
      (*request.total_segments < 1 || *request.segment < 0 || *request.segment >= *request.total_segments)) {
    return Error::usage("Segment must be in [0, TotalSegments) and TotalSegments at least 1 (got segment " +
                        std::to_string(*request.segment) + " of " + std::to_string(*request.total_segments) +
                        ")");
  }
  if (request.limit && (*request.limit < 1 || *request.limit > INT32_MAX)) {  // an Integer in DynamoDB's API
    return Error::usage("Limit must be from 1 to 2147483647, not " + std::to_string(*request.limit))
        .with_field("Limit");
  }
  for (auto [field, value] : {std::pair<std::string_view, std::string_view>{"TableName", request.table_name},
                              {"IndexName", request.index_name},
                              {"FilterExpression", request.filter_expression},
                              {"ProjectionExpression", request.projection_expression},
                              {"Select", request.select},
                              {"ReturnConsumedCapacity", request.return_consumed_capacity}}) {
    DDB2S3_RETURN_IF_ERROR(check_utf8(field, value));
  }

  simdjson::dom::parser parser;
  std::string out;
  out.reserve(256 + request.filter_expression.size() + request.projection_expression.size() +
              request.expression_attribute_names_json.size() +
              request.expression_attribute_values_json.size() + request.exclusive_start_key_json.size() +
              request.extra_json.size());
  JsonObjectWriter w(out);
  w.string("TableName", request.table_name);
  w.string_if_set("IndexName", request.index_name);
  w.string_if_set("FilterExpression", request.filter_expression);
  w.string_if_set("ProjectionExpression", request.projection_expression);
  for (auto [field, json] : {std::pair<std::string_view, std::string_view>{
                                 "ExpressionAttributeNames", request.expression_attribute_names_json},
                             {"ExpressionAttributeValues", request.expression_attribute_values_json},
                             {"ExclusiveStartKey", request.exclusive_start_key_json}}) {
    if (trim(json, is_json_space).empty()) continue;
    DDB2S3_ASSIGN_OR_RETURN(auto text, check_object(parser, field, json));
    w.raw(field, text);
  }
  if (request.consistent_read) w.raw("ConsistentRead", *request.consistent_read ? "true" : "false");
  if (request.limit) w.raw("Limit", std::to_string(*request.limit));
  if (request.segment) {
    w.raw("Segment", std::to_string(*request.segment));
    w.raw("TotalSegments", std::to_string(*request.total_segments));
  }
  w.string_if_set("Select", request.select);
  w.string_if_set("ReturnConsumedCapacity", request.return_consumed_capacity);

  if (!trim(request.extra_json, is_json_space).empty()) {
    simdjson::dom::object extra;
    DDB2S3_ASSIGN_OR_RETURN(auto text, check_object(parser, "extra Scan fields", request.extra_json, &extra));
    bool any = false;
    for (auto field : extra) {
      if (w.has(field.key)) {
        return Error::usage("Scan field " + std::string(field.key) +
                            " is given twice (as an option and in the extra JSON)");
      }
      any = true;
    }
    // The members go in as written: strip the braces and keep the text between them.
    const std::string_view inner = trim(text.substr(1, text.size() - 2), is_json_space);
    if (any && !inner.empty()) {
      out += ',';
      out += inner;
    }
  }
  w.close();
  return out;
}

std::string build_create_table_body(const CreateTableRequest& request) {
  // Every key attribute is defined once, even when the table and an index share it.
  std::vector<const KeyAttribute*> definitions;
  auto define = [&definitions](const KeyAttribute& k) {
    for (const KeyAttribute* d : definitions) {
      if (d->name == k.name) return;
    }
    definitions.push_back(&k);
  };
  define(request.hash_key);
  if (request.range_key) define(*request.range_key);
  for (const auto& gsi : request.global_secondary_indexes) {
    define(gsi.hash_key);
    if (gsi.range_key) define(*gsi.range_key);
  }

  std::string out = "{\"TableName\":";
  append_json_string(out, request.table_name);
  out += ",\"AttributeDefinitions\":[";
  for (size_t i = 0; i < definitions.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"AttributeName\":";
    append_json_string(out, definitions[i]->name);
    out += ",\"AttributeType\":";
    append_json_string(out, definitions[i]->type);
    out += '}';
  }
  out += "],\"KeySchema\":";
  append_key_schema(out, request.hash_key, request.range_key);
  out += ",\"BillingMode\":\"PAY_PER_REQUEST\"";
  if (!request.global_secondary_indexes.empty()) {
    out += ",\"GlobalSecondaryIndexes\":[";
    for (size_t i = 0; i < request.global_secondary_indexes.size(); ++i) {
      const auto& gsi = request.global_secondary_indexes[i];
      if (i > 0) out += ',';
      out += "{\"IndexName\":";
      append_json_string(out, gsi.index_name);
      out += ",\"KeySchema\":";
      append_key_schema(out, gsi.hash_key, gsi.range_key);
      out += ",\"Projection\":{\"ProjectionType\":\"ALL\"}}";
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace ddb2s3

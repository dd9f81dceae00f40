// DynamoDB calls over AwsClient; answers parsed with simdjson (on-demand for Scan, DOM for the rest).
#include "dynamodb/dynamodb.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "base/json_writer.h"
#include "base/strings.h"

namespace ddb2s3 {

struct DynamoDbClient::Parsers {
  simdjson::ondemand::parser ondemand;
  simdjson::dom::parser dom;
};

namespace {

constexpr size_t kBatchWriteMax = 25;  // BatchWriteItem's limit of requests per call

std::string table_resource(const std::string& table) { return "table '" + table + "'"; }

Error bad_response(std::string_view operation, const std::string& table, std::string_view what) {
  return Error::make(ErrorKind::kInternal, "InvalidResponse",
                     "unexpected " + std::string(operation) + " response: " + std::string(what))
      .with_context(std::string(operation), table_resource(table));
}

// simdjson parses in place only with SIMDJSON_PADDING spare bytes after the data.
void ensure_padding(std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING)
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
}

// The text of the JSON object starting at begin ('{'), found by matching braces outside strings;
// empty when it does not end before end.
std::string_view object_text(const char* begin, const char* end) {
  int depth = 0;
  bool in_string = false;
  for (const char* p = begin; p < end; ++p) {
    const char c = *p;
    if (in_string) {
      if (c == '\\') {
        ++p;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return {begin, static_cast<size_t>(p + 1 - begin)};
    }
  }
  return {};
}

// Count, ScannedCount, LastEvaluatedKey and ConsumedCapacity in one forward pass; Items are skipped.
simdjson::error_code parse_scan_fields(simdjson::ondemand::parser& parser, ScanPage& page) {
  using namespace simdjson;
  const std::string& body = page.body;
  ondemand::document doc;
  if (auto e = parser.iterate(padded_string_view(body.data(), body.size(), body.capacity())).get(doc))
    return e;
  ondemand::object top;
  if (auto e = doc.get_object().get(top)) return e;
  for (auto field_result : top) {
    ondemand::field field;
    if (auto e = std::move(field_result).get(field)) return e;
    const ondemand::raw_json_string key = field.key();
    if (key == "Count") {
      if (auto e = field.value().get_int64().get(page.count)) return e;
    } else if (key == "ScannedCount") {
      if (auto e = field.value().get_int64().get(page.scanned_count)) return e;
    } else if (key == "LastEvaluatedKey") {
      ondemand::value value = field.value();
      ondemand::json_type type;
      if (auto e = value.type().get(type)) return e;
      if (type != ondemand::json_type::object) return INCORRECT_TYPE;
      const std::string_view token = value.raw_json_token();
      const std::string_view text = object_text(token.data(), body.data() + body.size());
      if (text.empty()) return TAPE_ERROR;
      page.last_evaluated_key_json.assign(text);
    } else if (key == "ConsumedCapacity") {
      ondemand::object capacity;
      if (auto e = field.value().get_object().get(capacity)) return e;
      for (auto cap_result : capacity) {
        ondemand::field cap;
        if (auto e = std::move(cap_result).get(cap)) return e;
        if (cap.key() == "CapacityUnits") {
          double units = 0;
          if (auto e = cap.value().get_double().get(units)) return e;
          page.consumed_capacity_units = units;
        }
      }
    }
  }
  return SUCCESS;
}

// Why text is not a DynamoDB key (a non-empty JSON object of attribute values); nullopt when it is one.
std::optional<std::string> key_problem(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::element key;
  if (auto e = parser.parse(text.data(), text.size()).get(key))
    return std::string("is not valid JSON: ") + simdjson::error_message(e);
  simdjson::dom::object attributes;
  if (key.get_object().get(attributes)) return std::string("is not a JSON object");
  if (attributes.size() == 0) return std::string("is empty");
  for (auto [name, value] : attributes)
    if (!value.is_object())
      return "attribute '" + escape_controls(name, 100) + "' is not a typed value such as {\"S\":\"...\"}";
  return std::nullopt;
}

std::string_view string_or_empty(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return s;
}

std::optional<int64_t> non_negative_int(simdjson::dom::element e, std::string_view object,
                                        std::string_view key) {
  int64_t n = 0;
  if (e[object][key].get_int64().get(n)) return std::nullopt;
  return n >= 0 ? std::optional<int64_t>(n) : std::nullopt;  // MaxReadRequestUnits -1: no maximum
}

// ProvisionedThroughput, OnDemandThroughput and WarmThroughput of a table or a global secondary index.
ReadCapacity read_capacity_of(simdjson::dom::element e) {
  ReadCapacity c;
  c.provisioned_read_units = non_negative_int(e, "ProvisionedThroughput", "ReadCapacityUnits");
  c.on_demand_max_read_units = non_negative_int(e, "OnDemandThroughput", "MaxReadRequestUnits");
  c.warm_read_units = non_negative_int(e, "WarmThroughput", "ReadUnitsPerSecond");
  return c;
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start, const RetryClock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
}

void pause(const RetryClock& clock, std::chrono::milliseconds d) {
  if (clock.sleep) {
    clock.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

}  // namespace

DynamoDbClient::DynamoDbClient(std::shared_ptr<const ServiceConfig> config)
    : client_(std::move(config)), parsers_(std::make_unique<Parsers>()) {}
DynamoDbClient::~DynamoDbClient() = default;
DynamoDbClient::DynamoDbClient(DynamoDbClient&&) noexcept = default;
DynamoDbClient& DynamoDbClient::operator=(DynamoDbClient&&) noexcept = default;

Error DynamoDbClient::describe_error(Error error, std::string_view operation,
                                     const std::string& table) const {
  Error e = std::move(error).with_context(std::string(operation), table_resource(table));
  if (e.code == "ResourceNotFoundException" && e.hint.empty()) {
    e.hint = "check the table name and the region of the table's side (looked in " + config().region +
             " at " + config().endpoint + ")";
  }
  return e;
}

Status DynamoDbClient::call(std::string_view operation, const std::string& table, std::string_view body) {
  HttpRequest request;
  request.method = "POST";
  std::string_view endpoint = config().endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  request.url = std::string(endpoint) + "/";
  request.set_header("Content-Type", "application/x-amz-json-1.0");
  request.set_header("X-Amz-Target", "DynamoDB_20120810." + std::string(operation));
  request.body = body;
  CallInfo info;
  info.operation = operation;
  info.resource = table_resource(table);
  info.check = check_dynamodb_crc32;  // a corrupted answer is retried like a transient failure
  if (Status s = client_.send(request, response_, info); !s)
    return describe_error(std::move(s).error(), operation, table);
  ensure_padding(response_.body);
  return {};
}

Result<ScanPage> DynamoDbClient::scan(const ScanRequest& request) {
  auto body = build_scan_body(request);
  if (!body) return std::move(body).error().with_context("Scan", table_resource(request.table_name));
  DDB2S3_RETURN_IF_ERROR(call("Scan", request.table_name, *body));
  ScanPage page;
  page.body = std::move(response_.body);
  response_.body = std::string();
  if (auto e = parse_scan_fields(parsers_->ondemand, page)) {
    return bad_response("Scan", request.table_name, simdjson::error_message(e));
  }
  // The on-demand pass skips what it does not read, and the key goes back as the next ExclusiveStartKey:
  // it must be one whole key here, else the next request would fail as if the user had given it.
  DDB2S3_RETURN_IF_ERROR(check_last_evaluated_key(page.last_evaluated_key_json, request.table_name));
  return page;
}

Status DynamoDbClient::scan_body(const ScanRequest& request, std::string& body) {
  auto json = build_scan_body(request);
  if (!json) return std::move(json).error().with_context("Scan", table_resource(request.table_name));
  std::swap(response_.body, body);  // the answer is read into the caller's buffer
  Status s = call("Scan", request.table_name, *json);
  std::swap(response_.body, body);
  return s;
}

Status DynamoDbClient::check_last_evaluated_key(std::string_view key, const std::string& table) {
  if (key.empty()) return {};
  if (auto what = key_problem(parsers_->dom, key))
    return bad_response("Scan", table, "LastEvaluatedKey " + *what);
  return {};
}

void DynamoDbClient::recycle(std::string&& buffer) {
  if (buffer.capacity() > response_.body.capacity()) {
    response_.body = std::move(buffer);
    response_.body.clear();
  }
}

Result<TableDescription> DynamoDbClient::describe_table(const std::string& table) {
  std::string body = "{\"TableName\":";
  append_json_string(body, table);
  body += '}';
  DDB2S3_RETURN_IF_ERROR(call("DescribeTable", table, body));

  simdjson::dom::element doc;
  if (auto e = parsers_->dom.parse(response_.body).get(doc)) {
    return bad_response("DescribeTable", table, simdjson::error_message(e));
  }
  simdjson::dom::element t;
  if (doc["Table"].get(t) || !t.is_object()) return bad_response("DescribeTable", table, "no Table object");
  TableDescription d;
  d.table_name = string_or_empty(t, "TableName");
  d.table_arn = string_or_empty(t, "TableArn");
  d.table_status = string_or_empty(t, "TableStatus");
  if (t["ItemCount"].get_int64().get(d.item_count)) d.item_count = 0;  // absent in some answers
  if (t["TableSizeBytes"].get_int64().get(d.table_size_bytes)) d.table_size_bytes = 0;
  simdjson::dom::array keys;
  if (!t["KeySchema"].get_array().get(keys)) {
    for (simdjson::dom::element k : keys) {
      d.key_schema.push_back(
          {std::string(string_or_empty(k, "AttributeName")), std::string(string_or_empty(k, "KeyType"))});
    }
  }
  for (std::string_view list : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    simdjson::dom::array indexes;
    if (t[list].get_array().get(indexes)) continue;
    for (simdjson::dom::element index : indexes) {
      d.index_names.emplace_back(string_or_empty(index, "IndexName"));
      if (list == "GlobalSecondaryIndexes")
        d.global_index_capacity.push_back({d.index_names.back(), read_capacity_of(index)});
    }
  }
  d.read_capacity = read_capacity_of(t);
  simdjson::dom::element billing;
  if (!t["BillingModeSummary"].get(billing)) d.billing_mode = string_or_empty(billing, "BillingMode");
  return d;
}

Status DynamoDbClient::create_table(const CreateTableRequest& request) {
  if (request.table_name.empty() || request.hash_key.name.empty()) {
    return Error::usage("CreateTable needs a table name and a hash key")
        .with_context("CreateTable", table_resource(request.table_name));
  }
  return call("CreateTable", request.table_name, build_create_table_body(request));
}

Result<TableDescription> DynamoDbClient::wait_until_active(const std::string& table,
                                                           std::chrono::milliseconds timeout,
                                                           std::chrono::milliseconds poll_interval) {
  const RetryClock& clock = config().clock;
  const auto start = clock.now();
  // Starts at 50 ms (local servers turn ACTIVE almost at once) and doubles up to poll_interval.
  std::chrono::milliseconds interval{50};
  while (true) {
    auto d = describe_table(table);
    if (!d || d->table_status == "ACTIVE") return d;
    if (since(start, clock) >= timeout) {
      return Error::make(ErrorKind::kTransient, "TableNotActive",
                         "still " + d->table_status + " after " + std::to_string(timeout.count()) + " ms")
          .with_context("DescribeTable", table_resource(table));
    }
    interval = std::min(interval, poll_interval);
    pause(clock, std::min(interval, std::max(timeout - since(start, clock), std::chrono::milliseconds(1))));
    interval *= 2;
  }
}

Status DynamoDbClient::delete_table(const std::string& table) {
  std::string body = "{\"TableName\":";
  append_json_string(body, table);
  body += '}';
  return call("DeleteTable", table, body);
}

Status DynamoDbClient::batch_write(const std::string& table, const std::vector<std::string>& items_json) {
  return batch_requests(table, items_json, "{\"PutRequest\":{\"Item\":");
}

Status DynamoDbClient::batch_delete(const std::string& table, const std::vector<std::string>& keys_json) {
  return batch_requests(table, keys_json, "{\"DeleteRequest\":{\"Key\":");
}

Status DynamoDbClient::batch_requests(const std::string& table, const std::vector<std::string>& items_json,
                                      std::string_view request_head) {
  constexpr std::string_view kOp = "BatchWriteItem";
  if (table.empty())
    return Error::usage("BatchWriteItem needs a table name").with_context(std::string(kOp), "");
  const RetryClock& clock = config().clock;
  const RetryPolicy& policy = config().retry;
  const int max_attempts = std::max(policy.max_attempts, 1);

  std::vector<std::string> pending;  // {"PutRequest":{"Item":...}} elements of the current batch
  std::string body;
  for (size_t next = 0; next < items_json.size();) {
    pending.clear();
    for (; next < items_json.size() && pending.size() < kBatchWriteMax; ++next) {
      simdjson::dom::element item;
      if (parsers_->dom.parse(items_json[next]).get(item) || !item.is_object()) {
        return Error::usage("item " + std::to_string(next) + " is not a JSON object")
            .with_context(std::string(kOp), table_resource(table));
      }
      pending.push_back(std::string(request_head) + items_json[next] + "}}");
    }
    for (int attempt = 1; !pending.empty(); ++attempt) {
      body = "{\"RequestItems\":{";
      append_json_string(body, table);
      body += ":[";
      for (size_t i = 0; i < pending.size(); ++i) {
        if (i > 0) body += ',';
        body += pending[i];
      }
      body += "]}}";
      if (Status s = call(kOp, table, body); !s) return s;

      simdjson::dom::element doc;
      if (auto e = parsers_->dom.parse(response_.body).get(doc)) {
        return bad_response(kOp, table, simdjson::error_message(e));
      }
      pending.clear();
      simdjson::dom::array unprocessed;
      if (!doc["UnprocessedItems"][table].get_array().get(unprocessed)) {
        for (simdjson::dom::element request : unprocessed) pending.push_back(simdjson::minify(request));
      }
      if (pending.empty()) break;
      if (attempt >= max_attempts) {
        return Error::make(ErrorKind::kThrottling, "UnprocessedItems",
                           std::to_string(pending.size()) + " items still unprocessed after " +
                               std::to_string(attempt) + " attempts")
            .with_context(std::string(kOp), table_resource(table));
      }
      pause(clock, backoff_delay(policy, attempt, clock.uniform01 ? clock.uniform01() : 1.0));
    }
  }
  return {};
}

}  // namespace ddb2s3

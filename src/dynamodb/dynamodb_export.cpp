// The point-in-time export calls: DescribeContinuousBackups, ExportTableToPointInTime, DescribeExport,
// ListExports. Rare calls, so answers are parsed with a DOM parser of their own.
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/json_writer.h"
#include "base/strings.h"
#include "dynamodb/dynamodb.h"

namespace ddb2s3 {
namespace {

// Epoch seconds as the JSON 1.0 protocol sends timestamps: a number, milliseconds at most.
void timestamp_if_set(JsonObjectWriter& w, std::string_view name, const std::optional<double>& seconds) {
  if (!seconds) return;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", *seconds);
  std::string_view text = buf;
  while (!text.empty() && text.back() == '0') text.remove_suffix(1);
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  w.raw(name, text);
}

Error bad_response(std::string_view operation, const std::string& resource, std::string_view what) {
  return Error::make(ErrorKind::kInternal, "InvalidResponse",
                     "unexpected " + std::string(operation) + " response: " + std::string(what))
      .with_context(std::string(operation), resource);
}

std::string text_of(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return std::string(s);
}

std::optional<double> time_of(simdjson::dom::element e, std::string_view key) {
  double t = 0;
  if (e[key].get_double().get(t)) return std::nullopt;
  return t;
}

std::optional<int64_t> int_of(simdjson::dom::element e, std::string_view key) {
  simdjson::dom::element v;
  if (e[key].get(v)) return std::nullopt;
  int64_t i = 0;
  if (!v.get_int64().get(i)) return i;
  double d = 0;
  if (!v.get_double().get(d)) return static_cast<int64_t>(std::llround(d));
  return std::nullopt;
}

ExportDescription parse_export_description(simdjson::dom::element d) {
  ExportDescription x;
  x.export_arn = text_of(d, "ExportArn");
  x.export_status = text_of(d, "ExportStatus");
  x.table_arn = text_of(d, "TableArn");
  x.table_id = text_of(d, "TableId");
  x.client_token = text_of(d, "ClientToken");
  x.s3_bucket = text_of(d, "S3Bucket");
  x.s3_bucket_owner = text_of(d, "S3BucketOwner");
  x.s3_prefix = text_of(d, "S3Prefix");
  x.s3_sse_algorithm = text_of(d, "S3SseAlgorithm");
  x.s3_sse_kms_key_id = text_of(d, "S3SseKmsKeyId");
  x.export_format = text_of(d, "ExportFormat");
  x.export_type = text_of(d, "ExportType");
  x.export_manifest = text_of(d, "ExportManifest");
  x.failure_code = text_of(d, "FailureCode");
  x.failure_message = text_of(d, "FailureMessage");
  x.export_time = time_of(d, "ExportTime");
  x.start_time = time_of(d, "StartTime");
  x.end_time = time_of(d, "EndTime");
  x.item_count = int_of(d, "ItemCount");
  x.billed_size_bytes = int_of(d, "BilledSizeBytes");
  simdjson::dom::element spec;
  if (!d["IncrementalExportSpecification"].get(spec) && spec.is_object()) {
    IncrementalExportSpecification s;
    s.export_from_time = time_of(spec, "ExportFromTime");
    s.export_to_time = time_of(spec, "ExportToTime");
    s.export_view_type = text_of(spec, "ExportViewType");
    x.incremental = s;
  }
  x.json = simdjson::minify(d);
  return x;
}

std::string arn_resource(const std::string& arn) { return "export " + arn; }

}  // namespace

Result<std::string> build_export_body(const ExportTableRequest& r) {
  if (r.table_arn.empty()) return Error::usage("ExportTableToPointInTime needs a TableArn");
  if (r.s3_bucket.empty()) return Error::usage("ExportTableToPointInTime needs an S3Bucket");
  std::string out;
  JsonObjectWriter w(out);
  w.string_if_set("TableArn", r.table_arn);
  timestamp_if_set(w, "ExportTime", r.export_time);
  w.string_if_set("ClientToken", r.client_token);
  w.string_if_set("S3Bucket", r.s3_bucket);
  w.string_if_set("S3BucketOwner", r.s3_bucket_owner);
  w.string_if_set("S3Prefix", r.s3_prefix);
  w.string_if_set("S3SseAlgorithm", r.s3_sse_algorithm);
  w.string_if_set("S3SseKmsKeyId", r.s3_sse_kms_key_id);
  w.string_if_set("ExportFormat", r.export_format);
  w.string_if_set("ExportType", r.export_type);
  if (r.incremental) {
    w.key("IncrementalExportSpecification");
    JsonObjectWriter spec(out);
    timestamp_if_set(spec, "ExportFromTime", r.incremental->export_from_time);
    timestamp_if_set(spec, "ExportToTime", r.incremental->export_to_time);
    spec.string_if_set("ExportViewType", r.incremental->export_view_type);
    spec.close();
  }
  if (!trim(r.extra_json, is_json_space).empty()) {
    const std::string_view text = trim(r.extra_json, is_json_space);
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    if (auto e = parser.parse(text.data(), text.size()).get(element))
      return Error::usage(std::string("extra export fields are not valid JSON: ") +
                          simdjson::error_message(e));
    simdjson::dom::object extra;
    if (element.get_object().get(extra)) return Error::usage("extra export fields must be a JSON object");
    for (auto field : extra) {
      if (w.has(field.key)) {
        return Error::usage("export field " + std::string(field.key) +
                            " is given twice (as an option and in the extra JSON)");
      }
      w.key(field.key);
      out += simdjson::minify(field.value);
    }
  }
  w.close();
  return out;
}

Result<ContinuousBackups> DynamoDbClient::describe_continuous_backups(const std::string& table) {
  constexpr std::string_view kOp = "DescribeContinuousBackups";
  std::string body = "{\"TableName\":";
  append_json_string(body, table);
  body += '}';
  DDB2S3_RETURN_IF_ERROR(call(kOp, table, body));
  simdjson::dom::parser parser;
  simdjson::dom::element doc, d;
  if (auto e = parser.parse(response_.body).get(doc))
    return bad_response(kOp, "table '" + table + "'", simdjson::error_message(e));
  if (doc["ContinuousBackupsDescription"].get(d) || !d.is_object())
    return bad_response(kOp, "table '" + table + "'", "no ContinuousBackupsDescription");
  ContinuousBackups c;
  c.continuous_backups_status = text_of(d, "ContinuousBackupsStatus");
  simdjson::dom::element pitr;
  if (!d["PointInTimeRecoveryDescription"].get(pitr) && pitr.is_object()) {
    c.point_in_time_recovery_status = text_of(pitr, "PointInTimeRecoveryStatus");
    c.earliest_restorable_time = time_of(pitr, "EarliestRestorableDateTime");
    c.latest_restorable_time = time_of(pitr, "LatestRestorableDateTime");
  }
  return c;
}

Result<ExportDescription> DynamoDbClient::export_table_to_point_in_time(const ExportTableRequest& request) {
  constexpr std::string_view kOp = "ExportTableToPointInTime";
  const std::string resource = "table '" + request.table_arn + "'";
  auto body = build_export_body(request);
  if (!body) return std::move(body).error().with_context(std::string(kOp), resource);
  DDB2S3_RETURN_IF_ERROR(call(kOp, request.table_arn, *body));
  simdjson::dom::parser parser;
  simdjson::dom::element doc, d;
  if (auto e = parser.parse(response_.body).get(doc))
    return bad_response(kOp, resource, simdjson::error_message(e));
  if (doc["ExportDescription"].get(d) || !d.is_object())
    return bad_response(kOp, resource, "no ExportDescription");
  auto x = parse_export_description(d);
  if (x.export_arn.empty()) return bad_response(kOp, resource, "no ExportArn");
  return x;
}

Result<ExportDescription> DynamoDbClient::describe_export(const std::string& export_arn) {
  constexpr std::string_view kOp = "DescribeExport";
  std::string body = "{\"ExportArn\":";
  append_json_string(body, export_arn);
  body += '}';
  if (Status s = call(kOp, export_arn, body); !s) {
    Error e = std::move(s).error();
    e.resource = arn_resource(export_arn);
    return e;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc, d;
  const std::string resource = arn_resource(export_arn);
  if (auto e = parser.parse(response_.body).get(doc))
    return bad_response(kOp, resource, simdjson::error_message(e));
  if (doc["ExportDescription"].get(d) || !d.is_object())
    return bad_response(kOp, resource, "no ExportDescription");
  return parse_export_description(d);
}

Result<ExportList> DynamoDbClient::list_exports(const std::string& table_arn, const std::string& next_token,
                                                int max_results) {
  constexpr std::string_view kOp = "ListExports";
  const std::string resource = "table '" + table_arn + "'";
  std::string body;
  JsonObjectWriter w(body);
  w.string_if_set("TableArn", table_arn);
  w.key("MaxResults");
  body += std::to_string(max_results);
  w.string_if_set("NextToken", next_token);
  w.close();
  DDB2S3_RETURN_IF_ERROR(call(kOp, table_arn, body));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(response_.body).get(doc))
    return bad_response(kOp, resource, simdjson::error_message(e));
  ExportList list;
  simdjson::dom::array summaries;
  if (!doc["ExportSummaries"].get_array().get(summaries)) {
    for (simdjson::dom::element s : summaries)
      list.summaries.push_back(
          {text_of(s, "ExportArn"), text_of(s, "ExportStatus"), text_of(s, "ExportType")});
  }
  list.next_token = text_of(doc, "NextToken");
  return list;
}

}  // namespace ddb2s3

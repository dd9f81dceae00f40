// DynamoDB client (JSON 1.0 protocol): Scan, DescribeTable, CreateTable/DeleteTable, BatchWriteItem, and the
// point-in-time export calls (DescribeContinuousBackups, ExportTableToPointInTime, DescribeExport,
// ListExports).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"
#include "base/result.h"

namespace ddb2s3 {

// One Scan call's fields. Empty strings and unset optionals are left out of the request. The *_json
// fields are raw JSON objects inserted verbatim (checked to be valid JSON objects when the body is built).
struct ScanRequest {
  std::string table_name;
  std::string index_name;
  std::string filter_expression;
  std::string projection_expression;
  std::string expression_attribute_names_json;   // {"#n":"name"}
  std::string expression_attribute_values_json;  // typed: {":v":{"N":"1"}}
  std::optional<bool> consistent_read;
  std::optional<int64_t> limit;
  std::optional<int> segment;
  std::optional<int> total_segments;
  std::string exclusive_start_key_json;  // the previous page's LastEvaluatedKey
  std::string select;                    // ALL_ATTRIBUTES, COUNT, ...
  std::string return_consumed_capacity;  // TOTAL, INDEXES, NONE
  // Any other Scan fields (ScanFilter, AttributesToGet, ConditionalOperator...), merged verbatim; a
  // field given both here and above is a usage error.
  std::string extra_json;
};

// The request body of Scan; a usage Error when a raw fragment is not a JSON object or fields conflict.
Result<std::string> build_scan_body(const ScanRequest& request);

// One Scan answer. body is the whole response, its capacity at least size + simdjson::SIMDJSON_PADDING,
// so that it can be parsed on-demand in place (the Items are left to the caller).
struct ScanPage {
  std::string body;
  int64_t count = 0;
  int64_t scanned_count = 0;
  std::string last_evaluated_key_json;  // raw JSON object; empty on the last page
  std::optional<double> consumed_capacity_units;
};

struct KeySchemaElement {
  std::string attribute_name;
  std::string key_type;  // HASH or RANGE
};

// What DescribeTable says of the read capacity of a table or of one of its global secondary indexes.
// Unset when absent; MaxReadRequestUnits -1 (no maximum) is left unset too.
struct ReadCapacity {
  std::optional<int64_t>
      provisioned_read_units;  // ProvisionedThroughput.ReadCapacityUnits (0 on on-demand tables)
  std::optional<int64_t> on_demand_max_read_units;  // OnDemandThroughput.MaxReadRequestUnits
  std::optional<int64_t> warm_read_units;           // WarmThroughput.ReadUnitsPerSecond
};

struct IndexReadCapacity {
  std::string index_name;
  ReadCapacity capacity;
};

struct TableDescription {
  std::string table_name;
  std::string table_arn;
  std::string table_status;  // CREATING, ACTIVE, ...
  int64_t item_count = 0;
  int64_t table_size_bytes = 0;
  std::vector<KeySchemaElement> key_schema;
  std::vector<std::string> index_names;  // global, then local secondary indexes
  std::string billing_mode;              // PAY_PER_REQUEST, PROVISIONED (empty when not reported)
  ReadCapacity read_capacity;            // the table's
  std::vector<IndexReadCapacity>
      global_index_capacity;  // each global secondary index's, in index_names' order
};

struct KeyAttribute {
  std::string name;
  std::string type = "S";  // S, N or B
};

struct GlobalSecondaryIndex {
  std::string index_name;
  KeyAttribute hash_key;
  std::optional<KeyAttribute> range_key;  // projection is always ALL
};

// For tests, the quickstart and benchmarks: billing is always PAY_PER_REQUEST.
struct CreateTableRequest {
  std::string table_name;
  KeyAttribute hash_key;
  std::optional<KeyAttribute> range_key;
  std::vector<GlobalSecondaryIndex> global_secondary_indexes;
};

// The request body of CreateTable (exposed for tests).
std::string build_create_table_body(const CreateTableRequest& request);

// Point-in-time recovery state of a table (DescribeContinuousBackups). Times are epoch seconds.
struct ContinuousBackups {
  std::string continuous_backups_status;      // ENABLED, DISABLED
  std::string point_in_time_recovery_status;  // ENABLED, DISABLED
  std::optional<double> earliest_restorable_time;
  std::optional<double> latest_restorable_time;
};

struct IncrementalExportSpecification {
  std::optional<double> export_from_time;  // epoch seconds
  std::optional<double> export_to_time;
  std::string export_view_type;  // NEW_IMAGE, NEW_AND_OLD_IMAGES; empty: left out (AWS: NEW_AND_OLD_IMAGES)
};

// One ExportTableToPointInTime call's fields; empty strings and unset optionals are left out.
struct ExportTableRequest {
  std::string table_arn;
  std::string s3_bucket;
  std::string s3_prefix;
  std::string s3_bucket_owner;
  std::string s3_sse_algorithm;  // AES256 or KMS
  std::string s3_sse_kms_key_id;
  std::string export_format;  // DYNAMODB_JSON or ION
  std::string export_type;    // FULL_EXPORT or INCREMENTAL_EXPORT
  std::string client_token;
  std::optional<double> export_time;  // epoch seconds
  std::optional<IncrementalExportSpecification> incremental;
  // Any other fields, merged verbatim; a field given both here and above is a usage error.
  std::string extra_json;
};

// The request body of ExportTableToPointInTime (timestamps as epoch-second numbers).
Result<std::string> build_export_body(const ExportTableRequest& request);

// An export as DescribeExport / ExportTableToPointInTime describe it. Times are epoch seconds.
struct ExportDescription {
  std::string export_arn;
  std::string export_status;  // IN_PROGRESS, COMPLETED, FAILED
  std::string table_arn;
  std::string table_id;
  std::string client_token;
  std::string s3_bucket;
  std::string s3_bucket_owner;
  std::string s3_prefix;
  std::string s3_sse_algorithm;
  std::string s3_sse_kms_key_id;
  std::string export_format;
  std::string export_type;
  std::string export_manifest;  // S3 key of the manifest-summary.json
  std::string failure_code;
  std::string failure_message;
  std::optional<double> export_time, start_time, end_time;
  std::optional<int64_t> item_count, billed_size_bytes;
  std::optional<IncrementalExportSpecification> incremental;
  std::string json;  // the ExportDescription object as received (minified)
};

struct ExportSummary {
  std::string export_arn;
  std::string export_status;
  std::string export_type;
};

struct ExportList {
  std::vector<ExportSummary> summaries;
  std::string next_token;  // empty on the last page
};

// Not thread-safe: one per worker thread. It owns the worker's connection and reuses its buffers.
class DynamoDbClient {
 public:
  explicit DynamoDbClient(std::shared_ptr<const ServiceConfig> config);
  ~DynamoDbClient();
  DynamoDbClient(DynamoDbClient&&) noexcept;
  DynamoDbClient& operator=(DynamoDbClient&&) noexcept;

  // One page. The page's body is moved out of the client; give it back with recycle() to reuse it.
  Result<ScanPage> scan(const ScanRequest& request);
  // Returns a page's buffer so that the next call reuses its capacity instead of allocating.
  void recycle(std::string&& buffer);
  // One page's bytes only, read into body (its capacity reused; CRC32-checked and padded for simdjson),
  // for a caller that walks the page anyway: parsing the fields here too would walk it twice. The
  // caller must then check the page's LastEvaluatedKey with check_last_evaluated_key().
  Status scan_body(const ScanRequest& request, std::string& body);
  // An InvalidResponse error of Scan on table unless key is one whole DynamoDB key (a non-empty JSON
  // object of typed values): it goes back as the next ExclusiveStartKey.
  Status check_last_evaluated_key(std::string_view key, const std::string& table);

  Result<TableDescription> describe_table(const std::string& table);
  Status create_table(const CreateTableRequest& request);
  // Polls DescribeTable until the table is ACTIVE: after 50 ms, then twice as long each time up to
  // poll_interval (waits on the config's RetryClock).
  Result<TableDescription> wait_until_active(
      const std::string& table, std::chrono::milliseconds timeout = std::chrono::minutes(5),
      std::chrono::milliseconds poll_interval = std::chrono::seconds(1));
  Status delete_table(const std::string& table);

  // Puts typed items ({"id":{"S":"a"},...}) in batches of 25; UnprocessedItems are sent again with
  // back-off (the config's RetryPolicy and RetryClock); an Error if any remain after the attempts.
  Status batch_write(const std::string& table, const std::vector<std::string>& items_json);
  // Deletes items by their typed keys ({"id":{"S":"a"}}), in batches of 25, retried as batch_write is.
  Status batch_delete(const std::string& table, const std::vector<std::string>& keys_json);

  // Point-in-time export (dynamodb_export.cpp). `table` may be a name or an ARN.
  Result<ContinuousBackups> describe_continuous_backups(const std::string& table);
  Result<ExportDescription> export_table_to_point_in_time(const ExportTableRequest& request);
  Result<ExportDescription> describe_export(const std::string& export_arn);
  // One page of ListExports (max_results 1..25); next_token from the previous page, or empty.
  Result<ExportList> list_exports(const std::string& table_arn, const std::string& next_token = {},
                                  int max_results = 25);

  const ServiceConfig& config() const { return client_.config(); }

 private:
  struct Parsers;
  // POSTs body as X-Amz-Target DynamoDB_20120810.<operation>; the answer is left in response_.
  Status call(std::string_view operation, const std::string& table, std::string_view body);
  Error describe_error(Error error, std::string_view operation, const std::string& table) const;
  // BatchWriteItem of elements request_head + json + "}}" (PutRequest/Item or DeleteRequest/Key).
  Status batch_requests(const std::string& table, const std::vector<std::string>& items_json,
                        std::string_view request_head);

  AwsClient client_;
  HttpResponse response_;
  std::unique_ptr<Parsers> parsers_;
};

}  // namespace ddb2s3

// A stand-in for DynamoDB's export service (no local server implements it), on a loopback TestHttpServer:
// DescribeTable, DescribeContinuousBackups, ExportTableToPointInTime, DescribeExport and ListExports with the
// request and response shapes of the DynamoDB API reference (JSON 1.0, timestamps as epoch-second numbers).
// It validates requests strictly (unknown fields, wrong types, missing required fields, enum values, lengths
// and patterns, timestamps that are not numbers: 400 ValidationException), checks that requests are signed
// for dynamodb, moves exports IN_PROGRESS -> COMPLETED/FAILED after a number of DescribeExport polls the test
// sets (counted, never timed), can throttle the next K requests, honours ClientToken idempotency, and knows
// each table's point-in-time recovery state and window.
//
// With write_exports(), an export that completes also writes what a real one leaves in S3 (AWS's "DynamoDB
// table export output format"): PREFIX/AWSDynamoDB/<ExportId>/ with _started, data/*.json.gz,
// manifest-files.json and manifest-summary.json (and their .checksum files), computed from a DynamoDB
// endpoint's table of the same name. A full export at T is the latest snapshot recorded at or before T (a
// scan at start when none is, or without ExportTime); an incremental export from F to T is the difference
// between the latest snapshots at or before F and at or before T: one record per key that differs, with
// Keys, NewImage (absent for a deleted key), OldImage (NEW_AND_OLD_IMAGES) and a WriteTimestampMicros just
// before T. It cannot know intermediate writes: a key changed and changed back shows nothing, an item
// created and deleted in between shows nothing, and every record of one export has the same timestamp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ddb2s3::testing {

class ExportServer {
 public:
  static constexpr const char* kAccount = "111122223333";
  static constexpr const char* kRegion = "us-east-1";

  // What happens to the exports started from now on.
  struct Schedule {
    int polls_in_progress = 2;  // DescribeExport answers that still say IN_PROGRESS; the next one is final
    bool fail = false;          // final status FAILED instead of COMPLETED
    std::string failure_code = "S3AccessDenied";
    std::string failure_message = "Access Denied to the S3 bucket";
    int64_t item_count = 1234;
    int64_t billed_size_bytes = 567890;
  };

  struct Request {
    std::string operation;  // from X-Amz-Target, e.g. DescribeExport
    std::string body;
    int status = 0;          // the HTTP status answered
    std::string error_code;  // empty on success
  };

  ExportServer();  // listening on 127.0.0.1 when constructed
  ~ExportServer();
  ExportServer(const ExportServer&) = delete;
  ExportServer& operator=(const ExportServer&) = delete;

  std::string url() const;
  static std::string table_arn(const std::string& table);

  // A table; its PITR window defaults to [now - 35 days, now - 5 minutes] (as AWS keeps it: up to 35 days,
  // about 5 minutes behind). Disabled PITR has no window.
  void add_table(const std::string& name, bool pitr_enabled = true, std::optional<double> earliest = {},
                 std::optional<double> latest = {});
  void set_schedule(const Schedule& schedule);
  // After `skip` more requests, the next k (any operation) get 400 with this code (ThrottlingException or
  // ProvisionedThroughputExceededException).
  void throttle_next(int k, const std::string& code = "ThrottlingException", int skip = 0);

  // The DynamoDB endpoint whose tables the exports read, and the S3 endpoint they write to.
  struct Backing {
    std::string dynamodb_endpoint;  // http://127.0.0.1:PORT (dynalite)
    std::string s3_endpoint;        // http://127.0.0.1:PORT (s3rver)
    std::string access_key, secret_key;
    std::string region = kRegion;
  };
  void write_exports(const Backing& backing);
  // Scans table on the backing DynamoDB now and keeps its items as the table's contents at time `at`
  // (epoch seconds). Returns an error message, or empty.
  std::string record_snapshot(const std::string& table, double at);

  std::vector<Request> requests() const;
  // Requests of one operation that were answered 200.
  int succeeded(std::string_view operation) const;
  int exports_created() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ddb2s3::testing

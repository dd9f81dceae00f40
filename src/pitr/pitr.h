// Point-in-time export mode: start DynamoDB's own export (ExportTableToPointInTime, full or incremental),
// poll it (DescribeExport) and report it; list a table's exports. AWS does the work; nothing is scanned.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/config.h"
#include "aws/environment.h"
#include "aws/session.h"
#include "base/result.h"
#include "dynamodb/dynamodb.h"

namespace ddb2s3 {

// Incremental exports cover at least 15 minutes and at most 24 hours (DynamoDB's limits).
inline constexpr double kMinIncrementalSeconds = 15 * 60;
inline constexpr double kMaxIncrementalSeconds = 24 * 60 * 60;
// The latest time accepted anywhere (9999-12-31T23:59:59Z); the earliest is the epoch.
inline constexpr double kLatestTime = 253402300799;
// The longest wait between two polls.
inline constexpr double kMaxCheckIntervalSeconds = 24 * 60 * 60;

// "2024-05-01T12:00:00Z", "2024-05-01T14:00:00.250+02:00" (ISO 8601 with a zone; ' ' for 'T' is accepted)
// or epoch seconds ("1714564800", "1714564800.5"). A time without a zone is a usage error.
Result<double> parse_time(std::string_view text);
// ISO 8601 UTC, seconds (and milliseconds when not whole): 2024-05-01T12:00:00Z.
std::string format_time(double epoch_seconds);

// Wall time and sleeping, injectable so that tests neither wait nor depend on the date.
struct ExportClock {
  std::function<double()> now;  // epoch seconds; default: system_clock
  // Empty (the default, and system()): the real clock, a wait that a cancel cuts short within ~10 ms.
  std::function<void(std::chrono::milliseconds)> sleep;
  static ExportClock system();
};

// How to wait for an export: the operator's check_interval and max_attempts (a DescribeExport each).
struct WaitOptions {
  double check_interval_seconds = 30;  // 0 (or fractions) to kMaxCheckIntervalSeconds
  int max_attempts = 60;               // at least 1
};

// A usage Error naming check_interval_seconds or max_attempts (its field) when one is out of range.
Status check_wait_options(const WaitOptions& options);

// One DescribeExport while waiting, for a progress display.
struct ExportPoll {
  const ExportDescription* description = nullptr;  // the latest answer (null when the poll failed)
  int attempt = 0;                                 // 1..max_attempts
  int max_attempts = 0;
  double elapsed_seconds = 0;    // since waiting began
  const Error* error = nullptr;  // a throttled or transient poll (waiting goes on)
};

struct ExportOutcome;

struct ExportOptions {
  std::string table;  // name or ARN; the ARN is read with DescribeTable
  AwsOptions source;  // the DynamoDB side (DynamoDB writes to S3 itself: no S3 side is needed)
  std::string s3_bucket;
  std::string s3_prefix;  // may be empty

  // Empty / unset: not given. Validation and the defaults happen in start_export.
  std::optional<double> export_time;       // full export only; unset: now
  std::string export_format;               // DYNAMODB_JSON (default) or ION
  std::string export_type;                 // FULL_EXPORT (default) or INCREMENTAL_EXPORT
  std::optional<double> export_from_time;  // incremental: required
  std::optional<double> export_to_time;    // incremental: required
  std::string export_view_type;            // incremental: NEW_AND_OLD_IMAGES (default) or NEW_IMAGE
  std::string s3_sse_algorithm;            // AES256 or KMS
  std::string s3_sse_kms_key_id;           // needs KMS
  std::string s3_bucket_owner;             // account id, for a bucket of another account
  std::string client_token;                // empty: a fresh random token (as the AWS SDKs do)
  // Further ExportTableToPointInTime fields, passed through verbatim (fields apply_export_kwargs does not
  // know).
  std::string extra_json;

  bool wait = true;  // false: return right after the export started
  WaitOptions wait_options;
  std::function<void(const ExportPoll&)> on_poll;  // may be empty
  std::atomic<bool>* cancel = nullptr;             // set to stop waiting (the export goes on in AWS)
  // Called once the export has started, before waiting (e.g. to print its ARN and client token).
  std::function<void(const ExportOutcome&)> on_started;

  ExportClock clock = ExportClock::system();
  Environment env = Environment::process();
  SessionOptions session;
};

// Applies the operator's export_table_to_point_in_time_kwargs (a JSON object of ExportTableToPointInTime
// fields) to options: known fields go to their places (timestamps as epoch numbers or ISO 8601 strings,
// names such as ExportFormat checked against DynamoDB's values), unknown ones to extra_json as written.
// Usage errors (field "kwargs") call the JSON kwargs and the options by their member names: a field that
// options already has ("ExportFormat is given twice: as export_format and in kwargs"), TableArn, S3Bucket
// and S3Prefix (they come from table, s3_bucket and s3_prefix), bad JSON (with the byte where it goes wrong).
Status apply_export_kwargs(std::string_view kwargs, ExportOptions& options);

// The checks made before any AWS call: formats, the order of the times, the incremental window (15 min to
// 24 h), nothing in the future (now from options.clock), options that need others. A usage Error whose
// field (and message) names the option at fault as its ExportOptions member: export_from_time, max_attempts.
Status check_export_options(const ExportOptions& options);

// The request ExportTableToPointInTime gets for these options (defaults filled in, token made if empty).
ExportTableRequest export_request(const ExportOptions& options, const std::string& table_arn);

// The PITR checks against DescribeContinuousBackups: enabled (else a message with the exact
// `aws dynamodb update-continuous-backups` command), and the export time / incremental start inside the
// window EarliestRestorableDateTime..LatestRestorableDateTime.
Status check_point_in_time_recovery(const ExportOptions& options, const ContinuousBackups& backups,
                                    const std::string& region);

enum class ExportState {
  kStarted,    // not waited for (wait = false, or export-status without waiting)
  kCompleted,  // COMPLETED
  kFailed,     // FAILED: description.failure_code / failure_message say why
  kTimedOut,   // still IN_PROGRESS after max_attempts polls
  kCancelled,  // options.cancel was set while waiting
};

struct ExportOutcome {
  ExportState state = ExportState::kStarted;
  ExportDescription description;  // the latest answer
  std::string client_token;       // the token the export was started with
  int polls = 0;                  // DescribeExport calls made while waiting
  double waited_seconds = 0;
};

// The DynamoDB side's configuration for these options: source (its errors name source.*), the clock's sleep
// for back-offs, and cancel cutting a retry's wait short.
Result<std::shared_ptr<ServiceConfig>> export_dynamodb_config(const ExportOptions& options);

// Checks the options, reads the table's ARN (DescribeTable) and PITR state (DescribeContinuousBackups),
// starts the export and, unless options.wait is false, waits for it. COMPLETED, FAILED and timing out are
// outcomes, not Errors; Errors are usage errors, AWS refusals and polls that fail for good.
Result<ExportOutcome> run_export(const ExportOptions& options);

// Describes an export once, or (wait) until it is COMPLETED or FAILED or the attempts are spent. The region
// comes from the ARN when options.source has none.
struct ExportStatusOptions {
  std::string export_arn;
  AwsOptions source;
  bool wait = false;
  WaitOptions wait_options;
  std::function<void(const ExportPoll&)> on_poll;
  std::atomic<bool>* cancel = nullptr;
  ExportClock clock = ExportClock::system();
  Environment env = Environment::process();
  SessionOptions session;
};
Result<ExportOutcome> export_status(const ExportStatusOptions& options);

// A table's exports (ListExports, every page), newest first (export ids begin with their start time).
Result<std::vector<ExportSummary>> list_table_exports(const std::string& table, const AwsOptions& source,
                                                      const Environment& env,
                                                      const SessionOptions& session = {});

// The region in an ARN (arn:aws:dynamodb:REGION:...), or empty.
std::string arn_region(std::string_view arn);

}  // namespace ddb2s3

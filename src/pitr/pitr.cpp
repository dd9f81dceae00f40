// Point-in-time export: checks before any call, the PITR checks, start, wait and list.
#include "pitr/pitr.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "aws/config.h"
#include "base/cancel.h"
#include "base/encoding.h"
#include "base/json_args.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "base/time.h"

namespace ddb2s3 {
namespace {

constexpr std::chrono::milliseconds kSleepSlice{200};  // an injected sleep's slices (tests)

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Error bad_time(std::string_view text, const std::string& why) {
  return Error::usage("invalid time '" + std::string(text) + "': " + why +
                      " (use ISO 8601 with a zone, e.g. 2024-05-01T12:00:00Z, or epoch seconds)");
}

std::string random_token() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::uniform_int_distribution<int> hex(0, 15);
  std::string t;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) t += '-';
    int v = hex(gen);
    if (i == 12) v = 4;            // a version-4 UUID, as the AWS SDKs make idempotency tokens
    if (i == 16) v = 8 | (v & 3);  // variant bits
    t += kHexDigitsLower[v];
  }
  return t;
}

bool terminal(const std::string& status) { return status == "COMPLETED" || status == "FAILED"; }

ExportState state_of(const std::string& status) {
  if (status == "COMPLETED") return ExportState::kCompleted;
  if (status == "FAILED") return ExportState::kFailed;
  return ExportState::kStarted;
}

// Waits d (the real clock: cut short by cancel within ~10 ms; an injected sleep: in slices); false when
// cancelled.
bool pause(const ExportClock& clock, std::chrono::milliseconds d, std::atomic<bool>* cancel) {
  if (!clock.sleep) return wait_unless_cancelled(d, cancel);
  while (true) {
    if (is_cancelled(cancel)) return false;
    if (d.count() <= 0) return true;
    const auto slice = std::min(d, kSleepSlice);
    clock.sleep(slice);
    d -= slice;
  }
}

// Polls DescribeExport every check interval, at most max_attempts times, until COMPLETED or FAILED.
Result<ExportOutcome> wait_for(DynamoDbClient& client, ExportOutcome outcome, const WaitOptions& w,
                               const std::function<void(const ExportPoll&)>& on_poll,
                               std::atomic<bool>* cancel, const ExportClock& clock) {
  outcome.state = state_of(outcome.description.export_status);
  if (terminal(outcome.description.export_status)) return outcome;
  const double begin = clock.now();
  const auto interval = std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(std::max(0.0, w.check_interval_seconds) * 1000)));
  const std::string arn = outcome.description.export_arn;
  for (int attempt = 1; attempt <= w.max_attempts; ++attempt) {
    if (!pause(clock, interval, cancel)) {
      outcome.state = ExportState::kCancelled;
      return outcome;
    }
    auto d = client.describe_export(arn);
    outcome.polls = attempt;
    outcome.waited_seconds = clock.now() - begin;
    ExportPoll poll;
    poll.attempt = attempt;
    poll.max_attempts = w.max_attempts;
    poll.elapsed_seconds = outcome.waited_seconds;
    if (!d) {
      // Throttled or transient even after the client's own retries: this poll is lost, waiting is not.
      if (!d.error().retryable()) return std::move(d).error();
      poll.error = &d.error();
      poll.description = &outcome.description;
      if (on_poll) on_poll(poll);
      continue;
    }
    outcome.description = std::move(*d);
    poll.description = &outcome.description;
    if (on_poll) on_poll(poll);
    if (terminal(outcome.description.export_status)) {
      outcome.state = state_of(outcome.description.export_status);
      return outcome;
    }
  }
  outcome.state = ExportState::kTimedOut;
  return outcome;
}

// The DynamoDB side as errors name it: the options' member, `source` (source.endpoint_url...).
AwsOptions named_source(AwsOptions source) {
  if (source.name.empty()) source.name = "source";
  return source;
}

Result<std::shared_ptr<ServiceConfig>> dynamodb_config(const AwsOptions& source, const Environment& env,
                                                       SessionOptions session, const ExportClock& clock,
                                                       const std::atomic<bool>* cancel) {
  if (session.cancel == nullptr) session.cancel = cancel;  // Ctrl-C also cuts a retry's back-off short
  auto config = make_service_config("dynamodb", named_source(source), env, session);
  if (!config) return config;
  if (clock.sleep) (*config)->clock.sleep = clock.sleep;  // the client's back-off waits on the same clock
  return config;
}

std::string or_default(const std::string& value, const char* fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

Status check_wait_options(const WaitOptions& w) {
  if (!(w.check_interval_seconds >= 0 && w.check_interval_seconds <= kMaxCheckIntervalSeconds))
    return Error::usage("check_interval_seconds must be from 0 to 86400 seconds")
        .with_field("check_interval_seconds");
  if (w.max_attempts < 1) return Error::usage("max_attempts must be at least 1").with_field("max_attempts");
  return {};
}

ExportClock ExportClock::system() {
  ExportClock c;
  c.now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  return c;  // no sleep: waits are on the real clock, cut short by a cancel
}

Result<double> parse_time(std::string_view text) {
  if (text.empty()) return bad_time(text, "empty");
  // Epoch seconds: digits, maybe a fraction.
  if (std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    if (std::count(text.begin(), text.end(), '.') > 1 || text.front() == '.' || text.back() == '.')
      return bad_time(text, "not a number");
    return std::stod(std::string(text));
  }
  auto t = parse_iso8601(text);
  if (!t) return bad_time(text, t.error().message);
  return static_cast<double>(t->seconds.time_since_epoch().count()) +
         std::chrono::duration<double>(t->fraction).count();
}

std::string format_time(double epoch_seconds) {
  using namespace std::chrono;
  const double whole = std::floor(epoch_seconds);
  const auto millis = milliseconds(std::llround((epoch_seconds - whole) * 1000));
  return format_iso8601(sys_seconds(seconds(static_cast<int64_t>(whole))) + millis, Millis::kIfAny);
}

std::string arn_region(std::string_view arn) {
  // arn:partition:service:region:account:resource
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  const size_t end = arn.find(':', pos);
  if (arn.substr(0, 4) != "arn:" || end == std::string_view::npos) return {};
  return std::string(arn.substr(pos, end - pos));
}

Status apply_export_kwargs(std::string_view kwargs, ExportOptions& o) {
  auto usage = [](std::string message) { return Error::usage(std::move(message)).with_field("kwargs"); };
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue root, parse_json_arg(kwargs, "kwargs"));
  if (!root.is(JsonValue::Kind::kObject))
    return usage("kwargs must be a JSON object of ExportTableToPointInTime fields, not " + root.describe());

  auto twice = [&](std::string_view field, std::string_view option) {
    return usage("ExportTableToPointInTime field " + std::string(field) + " is given twice: as " +
                 std::string(option) + " and in kwargs; keep one");
  };
  // A string, one of `allowed` when it is not empty.
  auto read_string = [&](std::string_view field, const JsonValue& v,
                         std::initializer_list<std::string_view> allowed = {}) -> Result<std::string> {
    if (!v.is(JsonValue::Kind::kString))
      return usage("kwargs: " + std::string(field) + " must be a string, not " + v.describe());
    if (allowed.size() == 0 || std::find(allowed.begin(), allowed.end(), v.string) != allowed.end())
      return v.string;
    std::string names;
    for (std::string_view a : allowed) names += (names.empty() ? "" : " or ") + std::string(a);
    return usage("kwargs: " + std::string(field) + " must be " + names + ", not '" + v.string + "'");
  };
  auto read_time = [&](std::string_view field, const JsonValue& v) -> Result<double> {
    const std::string what = "kwargs: " + std::string(field);
    double t = 0;
    if (v.is(JsonValue::Kind::kNumber)) {
      auto n = json_number(v, what);
      if (!n) return std::move(n).error().with_field("kwargs");
      t = *n;
    } else if (v.is(JsonValue::Kind::kString)) {
      auto parsed = parse_time(v.string);
      if (!parsed) return usage(what + ": " + parsed.error().message);
      t = *parsed;
    } else {
      return usage(what + " must be epoch seconds or an ISO 8601 string, not " + v.describe());
    }
    if (t < 0 || t > kLatestTime)
      return usage(what + " must be from 1970 to 9999 (epoch seconds 0 to 253402300799), not " +
                   (v.is(JsonValue::Kind::kString) ? "'" + v.string + "'" : std::string(v.text)));
    return t;
  };
  struct StringField {
    const char* name;
    std::string* target;
    const char* option;
    std::initializer_list<std::string_view> allowed;
  };
  const StringField strings[] = {
      {"ExportFormat", &o.export_format, "export_format", {"DYNAMODB_JSON", "ION"}},
      {"ExportType", &o.export_type, "export_type", {"FULL_EXPORT", "INCREMENTAL_EXPORT"}},
      {"S3SseAlgorithm", &o.s3_sse_algorithm, "s3_sse_algorithm", {"AES256", "KMS"}},
      {"S3SseKmsKeyId", &o.s3_sse_kms_key_id, "s3_sse_kms_key_id", {}},
      {"S3BucketOwner", &o.s3_bucket_owner, "s3_bucket_owner", {}},
      {"ClientToken", &o.client_token, "client_token", {}},
  };
  std::string extra;
  for (const auto& [key, value] : root.members) {
    if (key == "TableArn") return twice(key, "the table");
    if (key == "S3Bucket") return twice(key, "s3_bucket");
    if (key == "S3Prefix") return twice(key, "s3_prefix");
    bool known = false;
    for (const StringField& f : strings) {
      if (key != f.name) continue;
      known = true;
      if (!f.target->empty()) return twice(key, f.option);
      DDB2S3_ASSIGN_OR_RETURN(*f.target, read_string(key, value, f.allowed));
    }
    if (known) continue;
    if (key == "ExportTime") {
      if (o.export_time) return twice(key, "export_time");
      DDB2S3_ASSIGN_OR_RETURN(o.export_time, read_time(key, value));
    } else if (key == "IncrementalExportSpecification") {
      if (!value.is(JsonValue::Kind::kObject))
        return usage("kwargs: IncrementalExportSpecification must be an object, not " + value.describe());
      for (const auto& [name, member] : value.members) {
        if (name == "ExportFromTime" || name == "ExportToTime") {
          auto& target = name == "ExportFromTime" ? o.export_from_time : o.export_to_time;
          if (target) return twice(name, name == "ExportFromTime" ? "export_from_time" : "export_to_time");
          DDB2S3_ASSIGN_OR_RETURN(target, read_time(name, member));
        } else if (name == "ExportViewType") {
          if (!o.export_view_type.empty()) return twice(name, "export_view_type");
          DDB2S3_ASSIGN_OR_RETURN(o.export_view_type,
                                  read_string(name, member, {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}));
        } else {
          return usage("kwargs: unknown IncrementalExportSpecification field '" + name +
                       "' (ExportFromTime, ExportToTime, ExportViewType)");
        }
      }
    } else {
      extra += extra.empty() ? "{" : ",";
      append_json_string(extra, key);
      extra += ':';
      extra += value.text;  // verbatim, as the user wrote it
    }
  }
  if (!extra.empty()) {
    if (!o.extra_json.empty()) return usage("kwargs gives further fields, but extra_json is set already");
    o.extra_json = extra + "}";
  }
  return {};
}

Status check_export_options(const ExportOptions& o) {
  // Options are named as the members of ExportOptions (field), so that a caller can say them its way.
  auto usage = [](std::string message, const char* field) {
    return Error::usage(std::move(message)).with_field(field);
  };
  if (o.table.empty()) return usage("the export needs a table", "table");
  if (o.s3_bucket.empty()) return usage("the export needs an S3 bucket (s3_bucket)", "s3_bucket");
  const std::string format = or_default(o.export_format, "DYNAMODB_JSON");
  if (format != "DYNAMODB_JSON" && format != "ION")
    return usage("export_format must be DYNAMODB_JSON or ION, not '" + format + "'", "export_format");
  const std::string type = or_default(o.export_type, "FULL_EXPORT");
  if (type != "FULL_EXPORT" && type != "INCREMENTAL_EXPORT")
    return usage("export_type must be FULL_EXPORT or INCREMENTAL_EXPORT, not '" + type + "'", "export_type");
  if (!o.s3_sse_algorithm.empty() && o.s3_sse_algorithm != "AES256" && o.s3_sse_algorithm != "KMS")
    return usage("s3_sse_algorithm must be AES256 or KMS, not '" + o.s3_sse_algorithm + "'",
                 "s3_sse_algorithm");
  if (!o.s3_sse_kms_key_id.empty() && o.s3_sse_algorithm != "KMS")
    return usage("s3_sse_kms_key_id needs s3_sse_algorithm KMS", "s3_sse_kms_key_id");
  if (Status s = check_wait_options(o.wait_options); !s) return s;
  for (const auto& [time, name] : {std::pair{o.export_time, "export_time"},
                                   {o.export_from_time, "export_from_time"},
                                   {o.export_to_time, "export_to_time"}}) {
    if (time && !(*time >= 0 && *time <= kLatestTime))
      return usage(std::string(name) + " must be from 1970 to 9999 (epoch seconds 0 to 253402300799)", name);
  }
  const double now = o.clock.now();
  if (type == "FULL_EXPORT") {
    if (o.export_from_time || o.export_to_time || !o.export_view_type.empty())
      return usage(
          "export_from_time, export_to_time and export_view_type are for incremental exports: "
          "use export_type INCREMENTAL_EXPORT",
          "export_type");
    if (o.export_time && *o.export_time > now)
      return usage(
          "export_time " + format_time(*o.export_time) + " is in the future (now " + format_time(now) + ")",
          "export_time");
    return {};
  }
  if (o.export_time)
    return usage("an incremental export takes export_from_time and export_to_time, not export_time",
                 "export_time");
  if (!o.export_from_time || !o.export_to_time)
    return usage("an incremental export needs export_from_time and export_to_time",
                 o.export_from_time ? "export_to_time" : "export_from_time");
  const std::string view = or_default(o.export_view_type, "NEW_AND_OLD_IMAGES");
  if (view != "NEW_IMAGE" && view != "NEW_AND_OLD_IMAGES")
    return usage("export_view_type must be NEW_IMAGE or NEW_AND_OLD_IMAGES, not '" + view + "'",
                 "export_view_type");
  const double from = *o.export_from_time, to = *o.export_to_time;
  if (from >= to)
    return usage("export_from_time (" + format_time(from) + ") must be before export_to_time (" +
                     format_time(to) + ")",
                 "export_from_time");
  if (to - from < kMinIncrementalSeconds)
    return usage("an incremental export covers at least 15 minutes (export_from_time " + format_time(from) +
                     " to export_to_time " + format_time(to) + " is shorter)",
                 "export_to_time");
  if (to - from > kMaxIncrementalSeconds)
    return usage("an incremental export covers at most 24 hours (export_from_time " + format_time(from) +
                     " to export_to_time " + format_time(to) + " is longer)",
                 "export_from_time");
  if (to > now)
    return usage("export_to_time " + format_time(to) + " is in the future (now " + format_time(now) + ")",
                 "export_to_time");
  return {};
}

ExportTableRequest export_request(const ExportOptions& o, const std::string& table_arn) {
  ExportTableRequest r;
  r.table_arn = table_arn;
  r.s3_bucket = o.s3_bucket;
  r.s3_prefix = o.s3_prefix;
  r.s3_bucket_owner = o.s3_bucket_owner;
  r.s3_sse_algorithm = o.s3_sse_algorithm;
  r.s3_sse_kms_key_id = o.s3_sse_kms_key_id;
  r.export_format = or_default(o.export_format, "DYNAMODB_JSON");  // as the operator always sends it
  r.client_token = o.client_token.empty() ? random_token() : o.client_token;
  r.extra_json = o.extra_json;
  if (o.export_type == "INCREMENTAL_EXPORT") {
    r.export_type = o.export_type;
    IncrementalExportSpecification spec;
    spec.export_from_time = o.export_from_time;
    spec.export_to_time = o.export_to_time;
    spec.export_view_type = or_default(o.export_view_type, "NEW_AND_OLD_IMAGES");
    r.incremental = spec;
  } else {
    r.export_type = o.export_type;  // FULL_EXPORT when given, else left out (AWS's default)
    r.export_time = o.export_time;
  }
  return r;
}

Status check_point_in_time_recovery(const ExportOptions& o, const ContinuousBackups& b,
                                    const std::string& region) {
  if (b.point_in_time_recovery_status != "ENABLED") {
    std::string command = "aws dynamodb update-continuous-backups --table-name " + o.table +
                          " --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true";
    if (!o.source.profile.empty()) command += " --profile " + o.source.profile;
    if (!region.empty()) command += " --region " + region;
    Error e = Error::make(ErrorKind::kClient, "PointInTimeRecoveryDisabled",
                          "point-in-time recovery is not enabled on table '" + o.table + "' (status " +
                              or_default(b.point_in_time_recovery_status, "DISABLED") +
                              "); an export needs it. Enable it with: " + command);
    return std::move(e).with_context("DescribeContinuousBackups", "table '" + o.table + "'");
  }
  const std::optional<double> earliest = b.earliest_restorable_time, latest = b.latest_restorable_time;
  auto outside = [&](const char* option, double t) -> Status {
    if ((!earliest || t >= *earliest) && (!latest || t <= *latest)) return {};
    Error e = Error::make(ErrorKind::kClient, "InvalidExportTime",
                          std::string(option) + " " + format_time(t) +
                              " is outside the table's point-in-time recovery window " +
                              (earliest ? format_time(*earliest) : std::string("?")) + " .. " +
                              (latest ? format_time(*latest) : std::string("?")));
    e.field = option;
    return std::move(e).with_context("DescribeContinuousBackups", "table '" + o.table + "'");
  };
  if (o.export_type == "INCREMENTAL_EXPORT") {
    if (o.export_from_time) return outside("export_from_time", *o.export_from_time);
  } else if (o.export_time) {
    return outside("export_time", *o.export_time);
  }
  return {};
}

Result<std::shared_ptr<ServiceConfig>> export_dynamodb_config(const ExportOptions& options) {
  return dynamodb_config(options.source, options.env, options.session, options.clock, options.cancel);
}

Result<ExportOutcome> run_export(const ExportOptions& options) {
  DDB2S3_RETURN_IF_ERROR(check_export_options(options));
  DDB2S3_ASSIGN_OR_RETURN(auto config, export_dynamodb_config(options));
  const std::string region = config->region;
  DynamoDbClient client(config);
  DDB2S3_ASSIGN_OR_RETURN(auto table, client.describe_table(options.table));
  DDB2S3_ASSIGN_OR_RETURN(auto backups, client.describe_continuous_backups(options.table));
  DDB2S3_RETURN_IF_ERROR(check_point_in_time_recovery(options, backups, region));

  const ExportTableRequest request = export_request(options, table.table_arn);
  auto started = client.export_table_to_point_in_time(request);
  if (!started) {
    Error e = std::move(started).error();
    if (e.code == "IdempotentParameterMismatchException" || e.code == "ImportConflictException") {
      e.hint =
          "client token '" + request.client_token +
          "' was used within the last 8 hours for an export with other parameters; use another client_token";
      e.field = "client_token";
    }
    return e;
  }
  ExportOutcome outcome;
  outcome.description = std::move(*started);
  outcome.client_token = request.client_token;
  outcome.state = state_of(outcome.description.export_status);
  if (options.on_started) options.on_started(outcome);
  if (!options.wait) return outcome;
  return wait_for(client, std::move(outcome), options.wait_options, options.on_poll, options.cancel,
                  options.clock);
}

Result<ExportOutcome> export_status(const ExportStatusOptions& options) {
  if (options.export_arn.rfind("arn:", 0) != 0 || options.export_arn.find("/export/") == std::string::npos)
    return Error::usage("'" + options.export_arn +
                        "' is not an export ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/T/export/ID)");
  if (options.wait) {
    DDB2S3_RETURN_IF_ERROR(check_wait_options(options.wait_options));
  }
  AwsOptions source = options.source;
  if (source.region.empty()) {
    source.region = arn_region(options.export_arn);  // the export lives there
    if (!source.region.empty() && !is_region_name(source.region))
      return Error::usage("the region '" + escape_controls(source.region, 64) + "' of export ARN '" +
                          escape_controls(options.export_arn) + "' is not a region name");
  }
  DDB2S3_ASSIGN_OR_RETURN(
      auto config, dynamodb_config(source, options.env, options.session, options.clock, options.cancel));
  DynamoDbClient client(config);
  DDB2S3_ASSIGN_OR_RETURN(auto d, client.describe_export(options.export_arn));
  ExportOutcome outcome;
  outcome.description = std::move(d);
  outcome.client_token = outcome.description.client_token;
  outcome.state = state_of(outcome.description.export_status);
  if (!options.wait) return outcome;
  return wait_for(client, std::move(outcome), options.wait_options, options.on_poll, options.cancel,
                  options.clock);
}

Result<std::vector<ExportSummary>> list_table_exports(const std::string& table, const AwsOptions& source,
                                                      const Environment& env, const SessionOptions& session) {
  DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("dynamodb", named_source(source), env, session));
  DynamoDbClient client(config);
  DDB2S3_ASSIGN_OR_RETURN(auto d, client.describe_table(table));
  std::vector<ExportSummary> all;
  std::string token;
  do {
    DDB2S3_ASSIGN_OR_RETURN(auto page, client.list_exports(d.table_arn, token));
    for (auto& s : page.summaries) all.push_back(std::move(s));
    token = std::move(page.next_token);
  } while (!token.empty());
  std::sort(all.begin(), all.end(),
            [](const ExportSummary& a, const ExportSummary& b) { return a.export_arn > b.export_arn; });
  return all;
}

}  // namespace ddb2s3

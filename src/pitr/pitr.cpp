// Point-in-time export: checks before any call, the PITR checks, start, wait and list.
#include "pitr/pitr.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "base/encoding.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace ddb2s3 {
namespace {

constexpr std::chrono::milliseconds kSleepSlice{200};  // how soon a cancel is noticed while waiting

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

// Sleeps d in slices; false when cancelled.
bool pause(const ExportClock& clock, std::chrono::milliseconds d, std::atomic<bool>* cancel) {
  while (true) {
    if (cancel != nullptr && cancel->load()) return false;
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

Result<std::shared_ptr<ServiceConfig>> dynamodb_config(const AwsOptions& source, const Environment& env,
                                                       const SessionOptions& session,
                                                       const ExportClock& clock) {
  auto config = make_service_config("dynamodb", source, env, session);
  if (!config) return config;
  if (clock.sleep) (*config)->clock.sleep = clock.sleep;  // the client's back-off waits on the same clock
  return config;
}

std::string or_default(const std::string& value, const char* fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

ExportClock ExportClock::system() {
  ExportClock c;
  c.now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  c.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  return c;
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

Status apply_export_kwargs(std::string_view json, ExportOptions& o) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto e = parser.parse(padded).get(doc))
    return Error::usage(std::string("--export-kwargs is not valid JSON: ") + simdjson::error_message(e));
  simdjson::dom::object fields;
  if (doc.get_object().get(fields)) return Error::usage("--export-kwargs must be a JSON object");

  auto twice = [](std::string_view field, std::string_view flag) {
    return Error::usage("ExportTableToPointInTime field " + std::string(field) + " is given twice: as " +
                        std::string(flag) + " and in --export-kwargs; keep one");
  };
  auto read_string = [](std::string_view field, simdjson::dom::element v) -> Result<std::string> {
    std::string_view s;
    if (v.get_string().get(s))
      return Error::usage("--export-kwargs: " + std::string(field) + " must be a string");
    return std::string(s);
  };
  auto read_time = [](std::string_view field, simdjson::dom::element v) -> Result<double> {
    double d = 0;
    if (!v.get_double().get(d)) return d;
    std::string_view s;
    if (!v.get_string().get(s)) {
      auto t = parse_time(s);
      if (!t) return Error::usage("--export-kwargs: " + std::string(field) + ": " + t.error().message);
      return *t;
    }
    return Error::usage("--export-kwargs: " + std::string(field) +
                        " must be epoch seconds or an ISO 8601 string");
  };
  struct StringField {
    const char* name;
    std::string* target;
    const char* flag;
  };
  const StringField strings[] = {
      {"ExportFormat", &o.export_format, "--export-format"},
      {"ExportType", &o.export_type, "--incremental"},
      {"S3SseAlgorithm", &o.s3_sse_algorithm, "--sse"},
      {"S3SseKmsKeyId", &o.s3_sse_kms_key_id, "--sse-kms-key-id"},
      {"S3BucketOwner", &o.s3_bucket_owner, "--expected-bucket-owner"},
      {"ClientToken", &o.client_token, "--client-token"},
  };
  std::string extra;
  for (auto field : fields) {
    const std::string_view key = field.key;
    if (key == "TableArn") return twice(key, "TABLE");
    if (key == "S3Bucket" || key == "S3Prefix") return twice(key, "s3://BUCKET/PREFIX");
    bool known = false;
    for (const StringField& f : strings) {
      if (key != f.name) continue;
      known = true;
      if (!f.target->empty()) return twice(key, f.flag);
      DDB2S3_ASSIGN_OR_RETURN(auto s, read_string(key, field.value));
      *f.target = std::move(s);
    }
    if (known) continue;
    if (key == "ExportTime") {
      if (o.export_time) return twice(key, "--export-time");
      DDB2S3_ASSIGN_OR_RETURN(auto t, read_time(key, field.value));
      o.export_time = t;
    } else if (key == "IncrementalExportSpecification") {
      simdjson::dom::object spec;
      if (field.value.get_object().get(spec))
        return Error::usage("--export-kwargs: IncrementalExportSpecification must be an object");
      for (auto member : spec) {
        const std::string_view name = member.key;
        if (name == "ExportFromTime" || name == "ExportToTime") {
          auto& target = name == "ExportFromTime" ? o.export_from_time : o.export_to_time;
          if (target) return twice(name, name == "ExportFromTime" ? "--from" : "--to");
          DDB2S3_ASSIGN_OR_RETURN(auto t, read_time(name, member.value));
          target = t;
        } else if (name == "ExportViewType") {
          if (!o.export_view_type.empty()) return twice(name, "--view");
          DDB2S3_ASSIGN_OR_RETURN(auto s, read_string(name, member.value));
          o.export_view_type = std::move(s);
        } else {
          return Error::usage("--export-kwargs: unknown IncrementalExportSpecification field " +
                              std::string(name) + " (ExportFromTime, ExportToTime, ExportViewType)");
        }
      }
    } else {
      extra += extra.empty() ? "{" : ",";
      append_json_string(extra, key);
      extra += ':';
      extra += simdjson::minify(field.value);
    }
  }
  if (!extra.empty()) {
    if (!o.extra_json.empty()) return Error::usage("--export-kwargs given twice");
    o.extra_json = extra + "}";
  }
  return {};
}

Status check_export_options(const ExportOptions& o) {
  if (o.table.empty()) return Error::usage("the export needs a table");
  if (o.s3_bucket.empty()) return Error::usage("the export needs an S3 bucket: s3://BUCKET/PREFIX");
  const std::string format = or_default(o.export_format, "DYNAMODB_JSON");
  if (format != "DYNAMODB_JSON" && format != "ION")
    return Error::usage("export format must be DYNAMODB_JSON or ION (got " + format + ")");
  const std::string type = or_default(o.export_type, "FULL_EXPORT");
  if (type != "FULL_EXPORT" && type != "INCREMENTAL_EXPORT")
    return Error::usage("ExportType must be FULL_EXPORT or INCREMENTAL_EXPORT (got " + type + ")");
  if (!o.s3_sse_algorithm.empty() && o.s3_sse_algorithm != "AES256" && o.s3_sse_algorithm != "KMS")
    return Error::usage("--sse must be AES256 or KMS (got " + o.s3_sse_algorithm + ")");
  if (!o.s3_sse_kms_key_id.empty() && o.s3_sse_algorithm != "KMS")
    return Error::usage("--sse-kms-key-id needs --sse KMS");
  if (o.wait_options.check_interval_seconds < 0 || !std::isfinite(o.wait_options.check_interval_seconds))
    return Error::usage("--check-interval must be 0 or more seconds");
  if (o.wait_options.max_attempts < 1) return Error::usage("--max-attempts must be at least 1");
  const double now = o.clock.now();
  if (type == "FULL_EXPORT") {
    if (o.export_from_time || o.export_to_time || !o.export_view_type.empty())
      return Error::usage("--from, --to and --view are for incremental exports: add --incremental");
    if (o.export_time && *o.export_time > now)
      return Error::usage("export time " + format_time(*o.export_time) + " is in the future (now " +
                          format_time(now) + ")");
    return {};
  }
  if (o.export_time) return Error::usage("an incremental export takes --from and --to, not --export-time");
  if (!o.export_from_time || !o.export_to_time)
    return Error::usage("an incremental export needs --from and --to");
  const std::string view = or_default(o.export_view_type, "NEW_AND_OLD_IMAGES");
  if (view != "NEW_IMAGE" && view != "NEW_AND_OLD_IMAGES")
    return Error::usage("--view must be NEW_IMAGE or NEW_AND_OLD_IMAGES (got " + view + ")");
  const double from = *o.export_from_time, to = *o.export_to_time;
  if (from >= to)
    return Error::usage("--from (" + format_time(from) + ") must be before --to (" + format_time(to) + ")");
  if (to - from < kMinIncrementalSeconds)
    return Error::usage("an incremental export covers at least 15 minutes (--from " + format_time(from) +
                        " to --to " + format_time(to) + " is shorter)");
  if (to - from > kMaxIncrementalSeconds)
    return Error::usage("an incremental export covers at most 24 hours (--from " + format_time(from) +
                        " to --to " + format_time(to) + " is longer)");
  if (to > now)
    return Error::usage("--to " + format_time(to) + " is in the future (now " + format_time(now) + ")");
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
  auto outside = [&](const char* what, double t) -> Status {
    if ((!earliest || t >= *earliest) && (!latest || t <= *latest)) return {};
    Error e = Error::make(ErrorKind::kClient, "InvalidExportTime",
                          std::string(what) + " " + format_time(t) +
                              " is outside the table's point-in-time recovery window " +
                              (earliest ? format_time(*earliest) : std::string("?")) + " .. " +
                              (latest ? format_time(*latest) : std::string("?")));
    return std::move(e).with_context("DescribeContinuousBackups", "table '" + o.table + "'");
  };
  if (o.export_type == "INCREMENTAL_EXPORT") {
    if (o.export_from_time) return outside("--from", *o.export_from_time);
  } else if (o.export_time) {
    return outside("export time", *o.export_time);
  }
  return {};
}

Result<ExportOutcome> run_export(const ExportOptions& options) {
  DDB2S3_RETURN_IF_ERROR(check_export_options(options));
  DDB2S3_ASSIGN_OR_RETURN(auto config,
                          dynamodb_config(options.source, options.env, options.session, options.clock));
  const std::string region = config->region;
  DynamoDbClient client(config);
  DDB2S3_ASSIGN_OR_RETURN(auto table, client.describe_table(options.table));
  DDB2S3_ASSIGN_OR_RETURN(auto backups, client.describe_continuous_backups(options.table));
  DDB2S3_RETURN_IF_ERROR(check_point_in_time_recovery(options, backups, region));

  const ExportTableRequest request = export_request(options, table.table_arn);
  auto started = client.export_table_to_point_in_time(request);
  if (!started) {
    Error e = std::move(started).error();
    if (e.code == "IdempotentParameterMismatchException" || e.code == "ImportConflictException")
      e.hint =
          "client token " + request.client_token +
          " was used within the last 8 hours for an export with other parameters; use another --client-token";
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
  if (options.wait && options.wait_options.max_attempts < 1)
    return Error::usage("--max-attempts must be at least 1");
  if (options.wait_options.check_interval_seconds < 0)
    return Error::usage("--check-interval must be 0 or more seconds");
  AwsOptions source = options.source;
  if (source.region.empty()) source.region = arn_region(options.export_arn);  // the export lives there
  DDB2S3_ASSIGN_OR_RETURN(auto config, dynamodb_config(source, options.env, options.session, options.clock));
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
  DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("dynamodb", source, env, session));
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

// `ddb2s3 export`, `export-status` and `exports`: parse into pitr's options, run, report, exit code.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "base/json_args.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "cli/args.h"
#include "cli/args_parse_internal.h"
#include "cli/commands.h"
#include "cli/parse.h"
#include "dynamodb/dynamodb.h"
#include "pitr/chain.h"
#include "pitr/pitr.h"
#include "report/progress.h"

namespace ddb2s3::cli {

struct SourceArgs {
  std::string profile, region, endpoint_url;
  AwsOptions options() const { return AwsOptions{profile, region, endpoint_url}; }
};

struct WaitArgs {
  std::string check_interval = "30", max_attempts = "60";  // as given; parse_wait() fills `parsed`
  WaitOptions parsed;
};

struct OutputArgs {
  bool json = false, quiet = false;
};

class ExportCommands final : public Commands {
 public:
  std::optional<int> run(std::atomic<bool>* cancel) override;
  CLI::App* export_cmd = nullptr;
  CLI::App* status_cmd = nullptr;
  CLI::App* list_cmd = nullptr;

  // export
  std::string table, dest, export_time, export_format, from, to, view, kwargs, sse, kms_key, bucket_owner,
      client_token;
  bool incremental = false, no_wait = false;
  // export --chain
  bool chain = false, chain_merge = false;
  std::string chain_base, chain_file_size = "256MiB";
  int chain_partitions = 16;
  SourceArgs chain_s3;  // the S3 side of the chain (state, lock, snapshots)
  SourceArgs source;
  WaitArgs wait;
  OutputArgs out;

  // export-status
  std::string status_arn;
  bool status_wait = false;
  SourceArgs status_source;
  WaitArgs status_wait_args;
  OutputArgs status_out;

  // exports
  std::string list_table;
  SourceArgs list_source;
  OutputArgs list_out;
};

namespace {

// The export commands' flags as the library names them (ExportOptions' members, the JSON kwargs), so that
// pitr's errors say flags.
const std::vector<FlagName>& flag_names() {
  static const std::vector<FlagName> names = {
      {"--export-time", "export_time", "ExportTime"},
      {"--export-format", "export_format", "ExportFormat"},
      {"--incremental", "export_type INCREMENTAL_EXPORT", ""},
      {"--incremental", "export_type", "ExportType"},
      {"--from", "export_from_time", "ExportFromTime"},
      {"--to", "export_to_time", "ExportToTime"},
      {"--view", "export_view_type", "ExportViewType"},
      {"--export-kwargs", "kwargs", ""},
      {"--client-token", "client_token", "ClientToken"},
      {"--sse", "s3_sse_algorithm", "S3SseAlgorithm"},
      {"--sse-kms-key-id", "s3_sse_kms_key_id", "S3SseKmsKeyId"},
      {"--expected-bucket-owner", "s3_bucket_owner", "S3BucketOwner"},
      {"s3://BUCKET/PREFIX", "s3_bucket", "S3Bucket"},
      {"s3://BUCKET/PREFIX", "s3_prefix", "S3Prefix"},
      {"--check-interval", "check_interval_seconds", ""},
      {"--max-attempts", "max_attempts", ""},
      {"--base", "base", ""},
      {"--partitions", "partitions", ""},
      {"--file-size", "file_size", ""},
      {"--dest-endpoint-url", "s3.endpoint_url", ""},
      {"--dest-region", "s3.region", ""},
      {"--dest-profile", "s3.profile", ""},
      {"--endpoint-url", "source.endpoint_url", ""},
      {"--region", "source.region", ""},
      {"--profile", "source.profile", ""},
  };
  return names;
}

void add_source(CLI::App* cmd, SourceArgs& s) {
  const char* group = "AWS (DynamoDB side)";
  cmd->add_option("--profile,--source-profile", s.profile, "AWS profile")->group(group);
  cmd->add_option("--region,--source-region", s.region, "AWS region")->group(group);
  cmd->add_option("--endpoint-url,--source-endpoint-url", s.endpoint_url, "DynamoDB endpoint URL")
      ->group(group);
}

void add_wait(CLI::App* cmd, WaitArgs& w) {
  const char* group = "Waiting";
  cmd->add_option("--check-interval", w.check_interval,
                  "seconds between DescribeExport polls (default 30; 0 to 86400, fractions allowed)")
      ->type_name("SECONDS")
      ->group(group);
  cmd->add_option("--max-attempts", w.max_attempts, "polls before giving up waiting (default 60)")
      ->type_name("INT")
      ->group(group);
}

// --check-interval and --max-attempts, range-checked.
Status parse_wait(WaitArgs& w) {
  DDB2S3_ASSIGN_OR_RETURN(const double seconds,
                          parse_seconds(w.check_interval, "--check-interval", kMaxCheckIntervalSeconds));
  auto attempts = parse_integer(w.max_attempts, 1, INT32_MAX, "--max-attempts");
  if (!attempts) return std::move(attempts).error();
  w.parsed = {seconds, static_cast<int>(*attempts)};
  return {};
}

void add_output(CLI::App* cmd, OutputArgs& o) {
  cmd->add_flag("--json", o.json, "print the ExportDescription as JSON on stdout");
  cmd->add_flag("--quiet,-q", o.quiet, "print nothing but errors (and --json)");
}

int fail(const Error& e) { return cli::fail(e, flag_names()); }

Result<double> time_flag(const std::string& flag, const std::string& text) {
  auto t = parse_time(text);
  if (!t) return Error::usage(flag + ": " + t.error().message);
  if (*t < 0 || *t > kLatestTime)
    return Error::usage(flag + " must be from 1970 to 9999 (epoch seconds 0 to 253402300799), not '" + text +
                        "'");
  return t;
}

std::string duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds < 0 ? 0 : seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRId64 ":%02d:%02d", s / 3600, static_cast<int>(s / 60 % 60),
                static_cast<int>(s % 60));
  return buf;
}

// The progress line on a terminal: status, time waited, polls.
std::function<void(const ExportPoll&)> progress_line(bool enabled) {
  if (!enabled) return {};
  return [](const ExportPoll& p) {
    const std::string status = p.description != nullptr ? p.description->export_status : "?";
    std::fprintf(stderr, "\r\033[Kddb2s3: export %s  waited %s  poll %d/%d%s", status.c_str(),
                 duration(p.elapsed_seconds).c_str(), p.attempt, p.max_attempts,
                 p.error != nullptr ? "  (poll throttled, retrying)" : "");
    std::fflush(stderr);
  };
}

// A field of the server's answer as printed for a person: control bytes escaped (base/strings.h), so
// that an answer cannot break or forge a line of the terminal.
std::string shown(const std::string& field) { return escape_controls(field, 2000); }

void print_summary(const ExportDescription& d) {
  std::printf("export      %s\n", shown(d.export_arn).c_str());
  std::printf("status      %s\n", shown(d.export_status).c_str());
  if (!d.failure_code.empty() || !d.failure_message.empty())
    std::printf("failure     %s: %s\n", shown(d.failure_code).c_str(), shown(d.failure_message).c_str());
  std::printf("table       %s\n", shown(d.table_arn).c_str());
  std::printf("type        %s, %s\n", d.export_type.empty() ? "FULL_EXPORT" : shown(d.export_type).c_str(),
              shown(d.export_format).c_str());
  if (d.export_time) std::printf("export time %s\n", format_time(*d.export_time).c_str());
  if (d.incremental) {
    const auto& s = *d.incremental;
    std::printf(
        "window      %s .. %s (%s)\n", s.export_from_time ? format_time(*s.export_from_time).c_str() : "?",
        s.export_to_time ? format_time(*s.export_to_time).c_str() : "?", shown(s.export_view_type).c_str());
  }
  if (d.item_count)
    std::printf("items       %s\n", format_count(static_cast<uint64_t>(*d.item_count)).c_str());
  if (d.billed_size_bytes)
    std::printf("billed size %s\n", format_bytes(static_cast<uint64_t>(*d.billed_size_bytes)).c_str());
  std::printf("s3          s3://%s/%s\n", shown(d.s3_bucket).c_str(), shown(d.s3_prefix).c_str());
  if (!d.export_manifest.empty())
    std::printf("manifest    s3://%s/%s\n", shown(d.s3_bucket).c_str(), shown(d.export_manifest).c_str());
  if (d.start_time) std::printf("started     %s\n", format_time(*d.start_time).c_str());
  if (d.end_time) {
    std::printf("ended       %s", format_time(*d.end_time).c_str());
    if (d.start_time) std::printf(" (%s)", duration(*d.end_time - *d.start_time).c_str());
    std::printf("\n");
  }
}

// How to resume watching: the same DynamoDB side, the region from the ARN.
std::string status_command(const std::string& arn, const SourceArgs& s) {
  std::string c = "ddb2s3 export-status " + arn + " --wait";
  if (!s.profile.empty()) c += " --profile " + s.profile;
  if (!s.endpoint_url.empty()) c += " --endpoint-url " + s.endpoint_url;
  return c;
}

// Summary, messages and exit code of an outcome (export and export-status alike).
int report(const ExportOutcome& o, const OutputArgs& out, const SourceArgs& source, const WaitArgs& wait,
           bool progress_shown) {
  if (progress_shown) std::fputs("\r\033[K", stderr);
  const ExportDescription& d = o.description;
  if (out.json) {
    std::printf("%s\n", export_json(o).c_str());
  } else if (!out.quiet) {
    print_summary(d);
  }
  switch (o.state) {
    case ExportState::kCompleted:
      return 0;
    case ExportState::kStarted:
      return 0;
    case ExportState::kFailed:
      std::fprintf(stderr, "ddb2s3: export %s FAILED: %s: %s\n", shown(d.export_arn).c_str(),
                   d.failure_code.empty() ? "(no FailureCode)" : shown(d.failure_code).c_str(),
                   shown(d.failure_message).c_str());
      return 1;
    case ExportState::kTimedOut:
      std::fprintf(
          stderr,
          "ddb2s3: export %s is still %s after %d polls %g s apart (--max-attempts %d); it goes on in AWS. "
          "Resume watching with: %s\n",
          d.export_arn.c_str(), d.export_status.c_str(), o.polls, wait.parsed.check_interval_seconds,
          wait.parsed.max_attempts, status_command(d.export_arn, source).c_str());
      return 1;
    case ExportState::kCancelled:
      std::fprintf(stderr, "ddb2s3: interrupted: export %s goes on in AWS. Resume watching with: %s\n",
                   d.export_arn.c_str(), status_command(d.export_arn, source).c_str());
      return 1;
  }
  return 1;
}

// --check-interval and --max-attempts first, then the rest.
Result<ExportOptions> export_options(ExportCommands& c) {
  DDB2S3_RETURN_IF_ERROR(parse_wait(c.wait));
  ExportOptions o;
  o.table = c.table;
  if (c.dest.rfind("s3://", 0) != 0)
    return Error::usage("destination must be s3://BUCKET[/PREFIX] (got '" + c.dest + "')");
  const std::string rest = c.dest.substr(5);
  const size_t slash = rest.find('/');
  o.s3_bucket = rest.substr(0, slash);
  if (slash != std::string::npos) o.s3_prefix = rest.substr(slash + 1);
  if (o.s3_bucket.empty()) return Error::usage("destination s3://BUCKET[/PREFIX] has no bucket");
  // Braces: the macro is several statements.
  if (!c.export_time.empty()) {
    DDB2S3_ASSIGN_OR_RETURN(o.export_time, time_flag("--export-time", c.export_time));
  }
  o.export_format = c.export_format;
  if (c.incremental) o.export_type = "INCREMENTAL_EXPORT";
  if (!c.from.empty()) {
    DDB2S3_ASSIGN_OR_RETURN(o.export_from_time, time_flag("--from", c.from));
  }
  if (!c.to.empty()) {
    DDB2S3_ASSIGN_OR_RETURN(o.export_to_time, time_flag("--to", c.to));
  }
  o.export_view_type = c.view;
  o.s3_sse_algorithm = c.sse;
  o.s3_sse_kms_key_id = c.kms_key;
  o.s3_bucket_owner = c.bucket_owner;
  o.client_token = c.client_token;
  if (!c.kwargs.empty()) {
    DDB2S3_RETURN_IF_ERROR(apply_export_kwargs(c.kwargs, o));
  }
  o.source = c.source.options();
  o.wait = !c.no_wait;
  o.wait_options = c.wait.parsed;
  return o;
}

const char* chain_action_name(ChainAction a) {
  switch (a) {
    case ChainAction::kStartedBase:
      return "started-base";
    case ChainAction::kAdoptedBase:
      return "adopted-base";
    case ChainAction::kAdvanced:
      return "advanced";
    case ChainAction::kUpToDate:
      return "up-to-date";
    case ChainAction::kFailed:
      return "failed";
  }
  return "failed";
}

std::string merge_outcome_json(const MergeOutcome& m) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("summary_key", m.summary_key);
  write_merge_counts(w, m);
  w.close();
  return out;
}

// The options of `export ... --chain`: the export's flags, and those of the chain.
Result<ChainRunOptions> chain_options(ExportCommands& c) {
  if (!c.chain) return Error::usage("--chain is missing: this is a chain's run").with_field("--chain");
  if (c.incremental || !c.from.empty() || !c.to.empty())
    return Error::usage(
               "--chain chooses the export type and windows itself: leave out --incremental, --from and --to")
        .with_field("--chain");
  if (c.no_wait)
    return Error::usage("--chain waits for each export to record it: leave out --no-wait")
        .with_field("--chain");
  if (!c.client_token.empty())
    return Error::usage("--chain makes a client token per export: leave out --client-token")
        .with_field("--client-token");
  DDB2S3_ASSIGN_OR_RETURN(ExportOptions exports, export_options(c));
  ChainRunOptions o;
  o.exports = std::move(exports);
  o.s3 = c.chain_s3.options();
  o.s3.name = "s3";
  o.base = c.chain_base;
  o.merge = c.chain_merge;
  o.partitions = c.chain_partitions;
  auto size = parse_size(c.chain_file_size);
  if (!size) return Error::usage("--file-size: " + size.error().message).with_field("--file-size");
  o.file_size = *size;
  return o;
}

// `export TABLE s3://BUCKET/PREFIX --chain [--base S3] [--merge]`: one run of the incremental chain.
int run_chain_command(ExportCommands& c, std::atomic<bool>* cancel) {
  auto parsed = chain_options(c);
  if (!parsed) return fail(parsed.error());
  ChainRunOptions o = std::move(*parsed);
  const bool progress = !c.out.quiet && isatty(2);
  o.exports.on_poll = progress_line(progress);
  o.exports.cancel = cancel;
  o.exports.on_started = [&](const ExportOutcome& started) {
    if (c.out.quiet) return;
    const ExportDescription& d = started.description;
    std::string window;
    if (d.incremental && d.incremental->export_from_time && d.incremental->export_to_time)
      window = " (" + format_time(*d.incremental->export_from_time) + " to " +
               format_time(*d.incremental->export_to_time) + ")";
    std::fprintf(stderr, "ddb2s3: chain: %s export %s: %s%s\n",
                 d.export_type == "INCREMENTAL_EXPORT" ? "incremental" : "full", d.export_status.c_str(),
                 d.export_arn.c_str(), window.c_str());
  };
  auto done = run_chain(o);
  if (progress) std::fputs("\r\033[K", stderr);
  if (!done) return fail(done.error());
  const ChainRunOutcome& r = *done;
  if (c.out.json) {
    std::printf("%s\n", chain_json(r).c_str());
  } else if (!c.out.quiet) {
    switch (r.action) {
      case ChainAction::kStartedBase:
        std::fprintf(stderr, "ddb2s3: chain started: base export as of %s (%s)\n",
                     format_time(r.state.base.to).c_str(), r.state.base.location.c_str());
        break;
      case ChainAction::kAdoptedBase:
        std::fprintf(stderr, "ddb2s3: chain started on %s as of %s\n", r.state.base.location.c_str(),
                     format_time(r.state.base.to).c_str());
        break;
      case ChainAction::kAdvanced:
        std::fprintf(stderr, "ddb2s3: chain advanced by %zu incremental export(s) to %s\n", r.exports.size(),
                     format_time(r.state.through()).c_str());
        break;
      case ChainAction::kUpToDate:
        std::fprintf(stderr,
                     "ddb2s3: chain is at %s, less than 15 minutes ago: nothing to export yet (the next "
                     "incremental export can cover up to %s or later)\n",
                     format_time(r.state.through()).c_str(), format_time(r.next_window).c_str());
        break;
      case ChainAction::kFailed:
        break;
    }
    if (r.merge)
      std::fprintf(stderr, "ddb2s3: chain snapshot: %" PRId64 " items at %s\n", r.merge->items,
                   r.state.snapshot.location.c_str());
    std::printf("%s\n", r.state_location.c_str());
  }
  if (r.action != ChainAction::kFailed) return 0;
  const ExportOutcome& last = r.exports.back();
  const int code = report(last, OutputArgs{false, true}, c.source, c.wait, false);
  if (r.state.table.empty())
    std::fprintf(stderr,
                 "ddb2s3: no chain was started (nothing was recorded); the next run makes the base again\n");
  else
    std::fprintf(stderr,
                 "ddb2s3: the chain stays at %s (nothing was recorded for this export); the next run covers "
                 "the same window again\n",
                 format_time(r.state.through()).c_str());
  return code == 0 ? 1 : code;
}

int run_export_command(ExportCommands& c, std::atomic<bool>* cancel) {
  if (c.chain) return run_chain_command(c, cancel);
  if (!c.chain_base.empty() || c.chain_merge)
    return fail(
        Error::usage("--base and --merge go with --chain").with_field(c.chain_merge ? "--merge" : "--base"));
  auto parsed = export_options(c);
  if (!parsed) return fail(parsed.error());
  ExportOptions o = std::move(*parsed);
  const bool progress = !c.out.quiet && isatty(2);
  o.on_poll = progress_line(progress);
  o.cancel = cancel;
  // Say what was started before waiting: the ARN and the token a retry needs to reattach.
  auto on_started = [&](const ExportOutcome& started) {
    if (c.out.quiet) return;
    const ExportDescription& d = started.description;
    std::fprintf(stderr, "ddb2s3: export %s: %s\n", d.export_status.c_str(), d.export_arn.c_str());
    if (!c.client_token.empty()) {
      std::fprintf(
          stderr,
          "ddb2s3: client token %s: within 8 hours, the same command with this token reattaches to this "
          "export instead of starting another\n",
          started.client_token.c_str());
    } else {
      std::fprintf(stderr,
                   "ddb2s3: client token %s (random): to retry without starting a second export, pass "
                   "--client-token %s within 8 hours\n",
                   started.client_token.c_str(), started.client_token.c_str());
    }
  };
  o.on_started = on_started;
  auto done = run_export(o);
  if (!done) {
    if (progress) std::fputs("\r\033[K", stderr);
    return fail(done.error());
  }
  if (!o.wait) {
    if (c.out.json) {
      std::printf("%s\n", export_json(*done).c_str());
    } else {
      std::printf("%s\n", done->description.export_arn.c_str());
    }
    return 0;
  }
  return report(*done, c.out, c.source, c.wait, progress);
}

Result<ExportStatusOptions> status_options(ExportCommands& c) {
  DDB2S3_RETURN_IF_ERROR(parse_wait(c.status_wait_args));
  ExportStatusOptions s;
  s.export_arn = c.status_arn;
  s.source = c.status_source.options();
  s.wait = c.status_wait;
  s.wait_options = c.status_wait_args.parsed;
  return s;
}

int run_status_command(ExportCommands& c, std::atomic<bool>* cancel) {
  auto parsed = status_options(c);
  if (!parsed) return fail(parsed.error());
  ExportStatusOptions s = std::move(*parsed);
  const bool progress = c.status_wait && !c.status_out.quiet && isatty(2);
  s.on_poll = progress_line(progress);
  s.cancel = cancel;
  auto r = export_status(s);
  if (!r) return fail(r.error());
  return report(*r, c.status_out, c.status_source, c.status_wait_args, progress);
}

int run_list_command(ExportCommands& c) {
  auto list = list_table_exports(c.list_table, c.list_source.options(), Environment::process());
  if (!list) return fail(list.error());
  if (c.list_out.json) {
    std::string out;
    append_json_array(out, *list, [](std::string& o, const ExportSummary& s) {
      JsonObjectWriter w(o);
      w.string("ExportArn", s.export_arn);
      w.string("ExportStatus", s.export_status);
      w.string("ExportType", s.export_type);
      w.close();
    });
    std::printf("%s\n", out.c_str());
    return 0;
  }
  if (list->empty() && !c.list_out.quiet)
    std::fprintf(stderr, "ddb2s3: table '%s' has no exports (ListExports covers the last 90 days)\n",
                 c.list_table.c_str());
  for (const ExportSummary& s : *list)
    std::printf("%-12s %-19s %s\n", s.export_status.c_str(), s.export_type.c_str(), s.export_arn.c_str());
  return 0;
}

}  // namespace

std::unique_ptr<Commands> add_export_commands(CLI::App& app) {
  auto c = std::make_unique<ExportCommands>();
  CLI::App* e = app.add_subcommand(
      "export",
      "Start DynamoDB's point-in-time export of a table to S3 (full or incremental) and wait for it");
  c->export_cmd = e;
  e->add_option("TABLE", c->table, "DynamoDB table name or ARN (point-in-time recovery must be on)")
      ->required();
  e->add_option("DEST", c->dest, "s3://BUCKET/PREFIX")->required();
  const char* what = "Export";
  e->add_option("--export-time", c->export_time,
                "full export as of this time: ISO 8601 with zone or epoch seconds (default: now)")
      ->group(what);
  e->add_option("--export-format", c->export_format, "DYNAMODB_JSON (default) or ION")
      ->check(CLI::IsMember({"DYNAMODB_JSON", "ION"}))
      ->group(what);
  e->add_flag("--incremental", c->incremental, "incremental export of the changes between --from and --to")
      ->group(what);
  e->add_option("--from", c->from, "incremental: ExportFromTime (ISO 8601 with zone or epoch seconds)")
      ->group(what);
  e->add_option("--to", c->to, "incremental: ExportToTime (15 minutes to 24 hours after --from)")
      ->group(what);
  e->add_option("--view", c->view, "incremental: NEW_AND_OLD_IMAGES (default) or NEW_IMAGE")
      ->check(CLI::IsMember({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}))
      ->group(what);
  e->add_option("--export-kwargs", c->kwargs,
                "further ExportTableToPointInTime fields as JSON (the operator's "
                "export_table_to_point_in_time_kwargs)")
      ->group(what);
  e->add_option("--client-token", c->client_token,
                "idempotency token (default: random); the same token within 8 hours reattaches to its export")
      ->group(what);
  const char* s3 = "S3 (written by DynamoDB)";
  e->add_option("--sse", c->sse, "S3SseAlgorithm: AES256 or KMS")
      ->check(CLI::IsMember({"AES256", "KMS"}))
      ->group(s3);
  e->add_option("--sse-kms-key-id", c->kms_key, "S3SseKmsKeyId (with --sse KMS)")->group(s3);
  e->add_option("--expected-bucket-owner", c->bucket_owner,
                "S3BucketOwner: the bucket's account id (cross-account)")
      ->group(s3);
  add_wait(e, c->wait);
  e->add_flag("--no-wait", c->no_wait, "print the export ARN and return at once")->group("Waiting");
  const char* chain = "Incremental chain";
  e->add_flag(
       "--chain", c->chain,
       "advance the chain kept under s3://BUCKET/PREFIX: a full export on the first run, then incremental "
       "exports from where the chain ends to now (windows of at most 24 hours), each recorded in "
       "PREFIX/ddb2s3-chain.json")
      ->group(chain);
  e->add_option(
       "--base", c->chain_base,
       "first run: adopt this full export's folder or `scan --format dynamodb-json` run (s3://...) as "
       "the chain's base instead of making a full export")
      ->group(chain);
  e->add_flag("--merge", c->chain_merge,
              "then merge the new incremental exports into a new snapshot (PREFIX/snapshots/TIME)")
      ->group(chain);
  e->add_option("--partitions", c->chain_partitions, "with --merge: key-hash partitions (default 16)")
      ->check(CLI::Range(1, 4096))
      ->group(chain);
  e->add_option("--file-size", c->chain_file_size,
                "with --merge: uncompressed bytes per snapshot data file (default 256MiB)")
      ->group(chain);
  const char* s3_side = "AWS (S3 side of --chain: state, lock, snapshots; resolved on its own)";
  e->add_option("--dest-profile", c->chain_s3.profile, "AWS profile")->group(s3_side);
  e->add_option("--dest-region", c->chain_s3.region, "AWS region")->group(s3_side);
  e->add_option("--dest-endpoint-url", c->chain_s3.endpoint_url, "S3 endpoint URL")->group(s3_side);
  add_source(e, c->source);
  add_output(e, c->out);

  CLI::App* st =
      app.add_subcommand("export-status", "Show an export (DescribeExport), or wait for it with --wait");
  c->status_cmd = st;
  st->add_option("EXPORT_ARN", c->status_arn, "the export's ARN")->required();
  st->add_flag("--wait", c->status_wait, "wait until it is COMPLETED or FAILED")->group("Waiting");
  add_wait(st, c->status_wait_args);
  add_source(st, c->status_source);
  add_output(st, c->status_out);

  CLI::App* ls = app.add_subcommand("exports", "List a table's exports (ListExports), newest first");
  c->list_cmd = ls;
  ls->add_option("TABLE", c->list_table, "DynamoDB table name or ARN")->required();
  add_source(ls, c->list_source);
  ls->add_flag("--json", c->list_out.json, "print the list as JSON on stdout");
  ls->add_flag("--quiet,-q", c->list_out.quiet, "print nothing but the list and errors");
  return c;
}

std::optional<int> ExportCommands::run(std::atomic<bool>* cancel) {
  ExportCommands& c = *this;
  if (c.export_cmd->parsed()) return run_export_command(c, cancel);
  if (c.status_cmd->parsed()) return run_status_command(c, cancel);
  if (c.list_cmd->parsed()) return run_list_command(c);
  return std::nullopt;
}

namespace {

// A fresh app with the export commands, `command args...` parsed into them, and the options built from them.
template <class Options>
Result<Options> parse_args(std::string_view command, const std::vector<std::string>& args,
                           Result<Options> (*options)(ExportCommands&)) {
  CLI::App app;
  auto commands = add_export_commands(app);
  DDB2S3_RETURN_IF_ERROR(parse_command_args(app, command, args));
  return options(static_cast<ExportCommands&>(*commands));
}

}  // namespace

Result<ExportOptions> parse_export_args(const std::vector<std::string>& args) {
  return parse_args<ExportOptions>("export", args, export_options);
}
Result<ChainRunOptions> parse_export_chain_args(const std::vector<std::string>& args) {
  return parse_args<ChainRunOptions>("export", args, chain_options);
}
Result<ExportStatusOptions> parse_export_status_args(const std::vector<std::string>& args) {
  return parse_args<ExportStatusOptions>("export-status", args, status_options);
}

Error export_error_in_flag_words(Error e) { return in_flag_words_and_field(std::move(e), flag_names()); }

std::string export_json(const ExportOutcome& outcome) { return outcome.description.json; }

std::string chain_json(const ChainRunOutcome& r) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("action", chain_action_name(r.action));
  w.string("state", r.state_location);
  w.array("exports", r.exports, [](std::string& s, const ExportOutcome& e) { s += e.description.json; });
  if (!r.state.table.empty()) {  // else a first run whose base export failed: no chain yet
    w.string("through", format_time(r.state.through()));
    w.number("incrementals", r.state.incrementals.size());
    if (r.action == ChainAction::kUpToDate) w.string("nextWindow", format_time(r.next_window));
    w.string("snapshot", r.state.snapshot.location);
  }
  if (r.merge) w.raw("merge", merge_outcome_json(*r.merge));
  w.close();
  return out;
}

}  // namespace ddb2s3::cli

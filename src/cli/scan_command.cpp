// `ddb2s3 scan` and `finalize`: parse into scan's options, run, report, exit code.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/json_args.h"
#include "cli/args.h"
#include "cli/args_parse_internal.h"
#include "cli/commands.h"
#include "cli/parse.h"
#include "report/progress.h"
#include "report/summary.h"
#include "report/verify_report.h"
#include "scan/parallel.h"
#include "scan/scan.h"
#include "scan/verify.h"

namespace ddb2s3::cli {
namespace {

// How a flag's text becomes part of ScanOptions.
using Setter = Status (*)(const std::string& text, ScanOptions& o);

Status set_integer(const std::string& text, std::string_view flag, int64_t min, int64_t max, int& target) {
  auto n = parse_integer(text, min, max, flag);
  if (!n) return std::move(n).error();
  target = static_cast<int>(*n);
  return {};
}

// A decimal number (fractions allowed, as from_chars reads it: no leading '+', no white space); its range is
// the library's check, which names the option.
Status set_number(const std::string& text, std::string_view flag, std::optional<double>& target) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    return Error::usage(std::string(flag) + " must be a number, not '" + text + "'");
  target = v;
  return {};
}

// A flag of `scan` that sets ScanOptions: one row serves its definition, the "given twice" check against
// --scan-kwargs (by its Scan field) and the library's errors in flag words (by its option name).
struct ScanFlag {
  FlagName name;
  const char* group;
  const char* help;
  const char* type;                       // shown in --help
  std::vector<std::string> choices = {};  // when not empty: the only values (checked by CLI11)
  bool is_switch = false;                 // a flag without a value
  Setter set = nullptr;                   // null for --scan-kwargs: applied last, over the others
};

constexpr const char* kRequest = "Scan request";
constexpr const char* kOutput = "Output";
constexpr const char* kParallel = "Parallel scan";
constexpr const char* kResume = "Resume";
constexpr const char* kCapacity = "Read capacity";

// In this order: set one after the other (--compression before --compression-level), shown in --help.
const std::vector<ScanFlag>& scan_flags() {
  static const std::vector<ScanFlag> flags = {
      {{"--scan-kwargs", "", ""},
       kRequest,
       "any Scan fields as typed JSON (the operator's dynamodb_scan_kwargs)",
       "JSON"},
      {{"--filter", "", "FilterExpression"},
       kRequest,
       "FilterExpression",
       "TEXT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         o.request.filter_expression = t;
         return {};
       }},
      {{"--projection", "", "ProjectionExpression"},
       kRequest,
       "ProjectionExpression",
       "TEXT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         o.request.projection_expression = t;
         return {};
       }},
      {{"--names", "", "ExpressionAttributeNames"},
       kRequest,
       "ExpressionAttributeNames as JSON, e.g. '{\"#s\":\"status\"}'",
       "JSON",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         if (t.empty()) return {};
         DDB2S3_ASSIGN_OR_RETURN(o.request.expression_attribute_names_json, attribute_names(t));
         return {};
       }},
      {{"--values", "", "ExpressionAttributeValues"},
       kRequest,
       "ExpressionAttributeValues as plain JSON, e.g. '{\":v\":5}'",
       "JSON",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         if (t.empty()) return {};
         DDB2S3_ASSIGN_OR_RETURN(o.request.expression_attribute_values_json, marshal_plain_values(t));
         return {};
       }},
      {{"--index", "", "IndexName"},
       kRequest,
       "IndexName: scan a secondary index",
       "TEXT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         o.request.index_name = t;
         return {};
       }},
      {{"--consistent-read", "", "ConsistentRead"},
       kRequest,
       "ConsistentRead",
       "",
       {},
       true,
       [](const std::string&, ScanOptions& o) -> Status {
         o.request.consistent_read = true;
         return {};
       }},
      {{"--page-size", "", "Limit"},
       kRequest,
       "Limit: items per Scan page (1 to 2147483647)",
       "INT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         auto n = parse_integer(t, 1, INT32_MAX, "--page-size");  // DynamoDB's Limit is an Integer
         if (!n) return std::move(n).error();
         o.request.limit = *n;
         return {};
       }},
      {{"--format", "format", ""},
       kOutput,
       "jsonl (default) or dynamodb-json",
       "TEXT",
       {"jsonl", "dynamodb-json"},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         o.format = t == "dynamodb-json" ? OutputFormat::kDynamoDbJson : OutputFormat::kJsonl;
         return {};
       }},
      {{"--compression", "compression", ""},
       kOutput,
       "gzip (default), zstd or none",
       "TEXT",
       {"gzip", "zstd", "none"},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         DDB2S3_ASSIGN_OR_RETURN(o.compression, parse_compression(t));
         return {};
       }},
      {{"--compression-level", "compression_level", ""},
       kOutput,
       "gzip 0-3 (default 1), zstd 1-19 (default 1)",
       "INT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) {
         // Any level of any compression here; the compression's own range is the library's check.
         return set_integer(t, "--compression-level", 0, 19, o.compression_level);
       }},
      {{"--file-size", "file_size", ""},
       kOutput,
       "roll data files at this size: 1000, 64MiB, 1GB (default 128MiB)",
       "SIZE",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         auto size = parse_size(t);
         if (size) o.file_size = *size;
         return size ? Status{} : Error::usage("--file-size: " + size.error().message);
       }},
      {{"--total-segments", "total_segments", "TotalSegments"},
       kParallel,
       "segments of the parallel scan (default 1; at most 1000000)",
       "INT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) {
         return set_integer(t, "--total-segments", 1, kMaxTotalSegments, o.total_segments);
       }},
      {{"--segment", "segment", "Segment"},
       kParallel,
       "run only this segment (0-based), or auto: the array job's index from JOB_COMPLETION_INDEX "
       "(Kubernetes), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch) or SLURM_ARRAY_TASK_ID (Slurm); needs --run-id",
       "INT|auto",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         if (t == "auto") {  // resolved by run_scan, when --total-segments (or TotalSegments) is known
           o.segment_auto = true;
           o.segment.reset();
           return {};
         }
         o.segment_auto = false;
         int segment = 0;
         if (Status s = set_integer(t, "--segment", 0, kMaxTotalSegments - 1, segment); !s) return s;
         o.segment = segment;
         return {};
       }},
      {{"--parallelism", "parallelism", ""},
       kParallel,
       "segments scanned at once (default: min(segments, 4 x cores, 64))",
       "INT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) {
         return set_integer(t, "--parallelism", 1, 1000000, o.parallelism);
       }},
      {{"--max-rcu", "max_rcu", ""},
       kCapacity,
       "read at most N read capacity units per second on average, all segments together (with --segment, "
       "this process takes N / total segments); above 0, at most 1000000000",
       "N",
       {},
       false,
       [](const std::string& t, ScanOptions& o) { return set_number(t, "--max-rcu", o.max_rcu); }},
      {{"--read-capacity-percent", "read_capacity_percent", ""},
       kCapacity,
       "read at most P% (above 0, at most 100) of the table's read capacity from DescribeTable: provisioned "
       "ReadCapacityUnits (the index's for --index); on-demand: MaxReadRequestUnits, else WarmThroughput; "
       "with --max-rcu, the smaller target",
       "P",
       {},
       false,
       [](const std::string& t, ScanOptions& o) {
         return set_number(t, "--read-capacity-percent", o.read_capacity_percent);
       }},
      {{"--run-id", "run_id", ""},
       kParallel,
       "the run's folder under PREFIX (default: UTC time + random)",
       "TEXT",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         o.run_id = t;
         return {};
       }},
      {{"--resume", "resume", ""},
       kResume,
       "continue run --run-id after a crash from its checkpoints (a finished run: nothing to do, exit 0)",
       "",
       {},
       true,
       [](const std::string&, ScanOptions& o) -> Status {
         o.resume = true;
         return {};
       }},
      {{"--checkpoint-interval", "checkpoint_interval", ""},
       kResume,
       "at most one checkpoint per segment this often, in seconds (default 1; 0: after every data file)",
       "SECONDS",
       {},
       false,
       [](const std::string& t, ScanOptions& o) -> Status {
         DDB2S3_ASSIGN_OR_RETURN(o.checkpoint_interval, parse_seconds(t, "--checkpoint-interval", 86400));
         return {};
       }},
      {{"--no-checkpoints", "", ""},
       kResume,
       "write no checkpoints (the run cannot be resumed)",
       "",
       {},
       true,
       [](const std::string&, ScanOptions& o) -> Status {
         o.checkpoints = false;
         return {};
       }},
  };
  return flags;
}

// The names of scan's and finalize's settings, for the library's errors (finalize's refer to the scan's).
const std::vector<FlagName>& flag_names() {
  static const std::vector<FlagName> names = [] {
    std::vector<FlagName> n;
    for (const ScanFlag& f : scan_flags()) n.push_back(f.name);
    n.push_back({"--s3-extra-args", "extra_args", ""});
    for (const FlagName& side : {FlagName{"--source-region", "source.region", ""},
                                 FlagName{"--source-endpoint-url", "source.endpoint_url", ""},
                                 FlagName{"--source-profile", "source.profile", ""},
                                 FlagName{"--dest-region", "dest_aws.region", ""},
                                 FlagName{"--dest-endpoint-url", "dest_aws.endpoint_url", ""},
                                 FlagName{"--dest-profile", "dest_aws.profile", ""}})
      n.push_back(side);
    return n;
  }();
  return names;
}

struct SideArgs {
  std::string profile, region, endpoint_url;
  AwsOptions options() const { return AwsOptions{profile, region, endpoint_url}; }
};

void add_side(CLI::App* cmd, SideArgs& side, const std::string& name, const std::string& what) {
  cmd->add_option("--" + name + "-profile", side.profile, "AWS profile for " + what)->group("AWS");
  cmd->add_option("--" + name + "-region", side.region, "AWS region for " + what)->group("AWS");
  cmd->add_option("--" + name + "-endpoint-url", side.endpoint_url,
                  "endpoint URL for " + what + " (e.g. a local server)")
      ->group("AWS");
}

struct S3Args {
  std::string sse, kms_key, storage_class, acl, expected_owner, extra_args;
};

void add_s3(CLI::App* cmd, S3Args& s3) {
  const char* group = "S3 upload";
  cmd->add_option("--sse", s3.sse, "server-side encryption: AES256, aws:kms or aws:kms:dsse")
      ->check(CLI::IsMember({"AES256", "aws:kms", "aws:kms:dsse"}))
      ->group(group);
  cmd->add_option("--sse-kms-key-id", s3.kms_key, "KMS key for aws:kms encryption")->group(group);
  cmd->add_option("--storage-class", s3.storage_class, "e.g. STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR")
      ->group(group);
  cmd->add_option("--acl", s3.acl, "canned ACL, e.g. bucket-owner-full-control")->group(group);
  cmd->add_option("--expected-bucket-owner", s3.expected_owner, "account id the bucket must belong to")
      ->group(group);
  cmd->add_option("--s3-extra-args", s3.extra_args,
                  "boto3 ExtraArgs as JSON, e.g. '{\"Metadata\":{\"team\":\"data\"},\"Tagging\":\"k=v\"}'")
      ->group(group);
}

// --s3-extra-args first, then the flags; a header set both ways is a usage error.
Result<ObjectOptions> object_options(const S3Args& a) {
  ObjectOptions o;
  if (!a.extra_args.empty()) {
    DDB2S3_ASSIGN_OR_RETURN(o, object_options_from_extra_args(a.extra_args));
  }
  struct Flag {
    const std::string& value;
    const char* header;
    const char* flag;
  };
  for (const Flag& f :
       {Flag{a.sse, "x-amz-server-side-encryption", "--sse"},
        Flag{a.kms_key, "x-amz-server-side-encryption-aws-kms-key-id", "--sse-kms-key-id"},
        Flag{a.storage_class, "x-amz-storage-class", "--storage-class"}, Flag{a.acl, "x-amz-acl", "--acl"}}) {
    if (f.value.empty()) continue;
    if (!o.get(f.header).empty())
      return Error::usage(std::string(f.flag) +
                          " is given twice: as a flag and in --s3-extra-args; keep one");
    o.set(f.header, f.value);
  }
  if (!a.kms_key.empty() && o.get("x-amz-server-side-encryption").rfind("aws:kms", 0) != 0)
    return Error::usage("--sse-kms-key-id needs --sse aws:kms (or aws:kms:dsse)");
  DDB2S3_RETURN_IF_ERROR(o.check());  // the flags' values become headers as they are
  return o;
}

int fail(const Error& e) { return cli::fail(e, flag_names()); }

void print_summary(const ScanSummary& s, bool json, bool quiet) {
  if (json) {
    std::printf("%s\n", summary_json(s).c_str());
    return;
  }
  if (quiet) return;
  std::string where = !s.summary_key.empty() ? s.summary_key : s.segment_manifest_key;
  const RunRecord& run = s.run;
  if (s.already_complete) {
    if (!s.segment_manifest_key.empty())
      std::fprintf(stderr, "ddb2s3: segment %d of run %s is already done: %s exists; nothing to do\n",
                   std::max(run.segment, 0), run.run_id.c_str(), where.c_str());
    else
      std::fprintf(stderr, "ddb2s3: run %s is already complete: %s exists; nothing to do\n",
                   run.run_id.c_str(), where.c_str());
    return;
  }
  std::fprintf(stderr, "ddb2s3: %s items from table '%s' in %zu files (%s) to %s in %.1f s\n",
               format_count(run.item_count).c_str(), run.table.c_str(), run.files.size(),
               format_bytes(run.stored_bytes()).c_str(), s.destination.c_str(), run.seconds);
  if (run.consumed_rcu > 0 || s.read_limit) {
    std::string target =
        s.read_limit
            ? "; target " + format_count(static_cast<uint64_t>(std::llround(s.read_limit->rcu_per_second))) +
                  " RCU/s"
            : std::string();
    std::fprintf(stderr, "ddb2s3: read %s RCU (%s RCU/s on average%s), %s throttled requests\n",
                 format_count(static_cast<uint64_t>(std::llround(run.consumed_rcu))).c_str(),
                 format_count(static_cast<uint64_t>(
                                  std::llround(run.seconds > 0 ? run.consumed_rcu / run.seconds : 0)))
                     .c_str(),
                 target.c_str(), format_count(run.throttles).c_str());
  }
  if (!s.summary_key.empty())
    std::fprintf(stderr, "ddb2s3: run %s complete: %s\n", run.run_id.c_str(), where.c_str());
  if (!s.segment_manifest_key.empty())
    std::fprintf(stderr, "ddb2s3: segment %d of run %s done: %s (run `ddb2s3 finalize` when all are)\n",
                 std::max(run.segment, 0), run.run_id.c_str(), where.c_str());
}

}  // namespace

class ScanCommands final : public Commands {
 public:
  std::optional<int> run(std::atomic<bool>* cancel) override;
  CLI::App* scan_cmd = nullptr;
  CLI::App* finalize_cmd = nullptr;

  // scan: TABLE and DEST, then one text per row of scan_flags() (in its order)
  std::string table, dest;
  std::vector<std::string> values = std::vector<std::string>(scan_flags().size());
  SideArgs source, dest_side;
  S3Args s3;
  bool quiet = false, json = false;

  // finalize
  std::string fin_dest, fin_run_id;
  SideArgs fin_side;
  S3Args fin_s3;
  bool fin_json = false, fin_quiet = false;

  // verify
  CLI::App* verify_cmd = nullptr;
  std::string ver_dest, ver_run_id, ver_owner;
  SideArgs ver_side;
  bool ver_deep = false, ver_json = false;
};

namespace {

// The flags in scan's options, row by row, then --scan-kwargs over them.
Result<ScanOptions> scan_options(const ScanCommands& c) {
  ScanOptions o;
  o.table = c.table;
  DDB2S3_ASSIGN_OR_RETURN(o.dest, Destination::parse(c.dest));
  GivenFlags given;
  const std::string* kwargs = nullptr;
  const std::vector<ScanFlag>& flags = scan_flags();
  for (size_t i = 0; i < flags.size(); ++i) {
    const ScanFlag& f = flags[i];
    const std::string& text = c.values[i];
    if (c.scan_cmd->count(std::string(f.name.flag)) == 0) continue;
    if (f.set == nullptr) {
      if (!text.empty()) kwargs = &text;
      continue;
    }
    DDB2S3_RETURN_IF_ERROR(f.set(text, o));
    // An empty text is as if not given (e.g. --filter ''), as the flag leaves its field unset.
    if (!f.name.aws_field.empty() && (f.is_switch || !text.empty()))
      given.add(std::string(f.name.aws_field), std::string(f.name.flag));
  }
  if (kwargs != nullptr) {
    DDB2S3_RETURN_IF_ERROR(apply_scan_kwargs(*kwargs, given, o));
  }
  o.source = c.source.options();
  o.dest_aws = c.dest_side.options();
  DDB2S3_ASSIGN_OR_RETURN(o.object_options, object_options(c.s3));
  o.expected_bucket_owner = c.s3.expected_owner;
  return o;
}

int run_scan_command(ScanCommands& c, std::atomic<bool>* cancel) {
  auto parsed = scan_options(c);
  if (!parsed) return fail(parsed.error());
  ScanOptions o = std::move(*parsed);
  o.cancel = cancel;
  ScanProgress progress;
  o.progress = &progress;
  Result<ScanSummary> result = Error::internal("not run");
  {
    ProgressPrinter printer(progress, stderr, !c.quiet && isatty(2));
    result = run_scan(std::move(o));
  }
  if (!result) {
    if (result.error().kind == ErrorKind::kCancelled) {
      std::fprintf(stderr, "ddb2s3: interrupted: uploads aborted, no manifest-summary.json written\n");
      return 1;
    }
    return fail(result.error());
  }
  print_summary(*result, c.json, c.quiet);
  return 0;
}

Result<FinalizeOptions> finalize_options(const ScanCommands& c) {
  FinalizeOptions o;
  DDB2S3_ASSIGN_OR_RETURN(o.dest, Destination::parse(c.fin_dest));
  o.run_id = c.fin_run_id;
  o.dest_aws = c.fin_side.options();
  DDB2S3_ASSIGN_OR_RETURN(o.object_options, object_options(c.fin_s3));
  o.expected_bucket_owner = c.fin_s3.expected_owner;
  return o;
}

int run_finalize_command(ScanCommands& c, std::atomic<bool>* cancel) {
  auto parsed = finalize_options(c);
  if (!parsed) return fail(parsed.error());
  FinalizeOptions o = std::move(*parsed);
  o.cancel = cancel;
  auto result = finalize_run(std::move(o));
  if (!result) return fail(result.error());
  print_summary(*result, c.fin_json, c.fin_quiet);
  return 0;
}

Result<VerifyOptions> verify_options(const ScanCommands& c) {
  VerifyOptions o;
  DDB2S3_ASSIGN_OR_RETURN(o.dest, Destination::parse(c.ver_dest));
  o.run_id = c.ver_run_id;
  o.dest_aws = c.ver_side.options();
  o.expected_bucket_owner = c.ver_owner;
  o.deep = c.ver_deep;
  return o;
}

// Exit 0 when everything holds, 1 when a problem was found or verifying could not be done.
int run_verify_command(ScanCommands& c, std::atomic<bool>* cancel) {
  auto parsed = verify_options(c);
  if (!parsed) return fail(parsed.error());
  VerifyOptions o = std::move(*parsed);
  o.cancel = cancel;
  auto report = verify_run(std::move(o));
  if (!report) return fail(report.error());
  if (c.ver_json)
    std::printf("%s\n", verify_report_json(*report).c_str());
  else
    std::fputs(verify_report_text(*report).c_str(), stdout);
  return report->ok() ? 0 : 1;
}

}  // namespace

std::unique_ptr<Commands> add_scan_commands(CLI::App& app) {
  auto c = std::make_unique<ScanCommands>();
  CLI::App* scan =
      app.add_subcommand("scan", "Scan a table and write every item to S3 (or a local directory)");
  c->scan_cmd = scan;
  scan->add_option("TABLE", c->table, "DynamoDB table name")->required();
  scan->add_option("DEST", c->dest, "s3://BUCKET/PREFIX or a local directory")->required();
  const std::vector<ScanFlag>& flags = scan_flags();
  for (size_t i = 0; i < flags.size(); ++i) {
    const ScanFlag& f = flags[i];
    const std::string name(f.name.flag);
    if (f.is_switch) {
      scan->add_flag(name)->description(f.help)->group(f.group);
      continue;
    }
    CLI::Option* option = scan->add_option(name, c->values[i], f.help)->type_name(f.type)->group(f.group);
    if (!f.choices.empty()) option->check(CLI::IsMember(f.choices));
  }
  add_side(scan, c->source, "source", "the DynamoDB table");
  add_side(scan, c->dest_side, "dest", "the S3 bucket");
  add_s3(scan, c->s3);
  scan->add_flag("--quiet,-q", c->quiet, "print nothing but errors");
  scan->add_flag("--json", c->json, "print the run's summary as JSON on stdout");

  CLI::App* finalize = app.add_subcommand(
      "finalize",
      "Write the manifests of a scan that many processes shared (--segment), once all segments are done");
  c->finalize_cmd = finalize;
  finalize->add_option("DEST", c->fin_dest, "s3://BUCKET/PREFIX or a local directory, as given to scan")
      ->required();
  finalize->add_option("--run-id", c->fin_run_id, "the run id all segments used")->required();
  add_side(finalize, c->fin_side, "dest", "the S3 bucket");
  add_s3(finalize, c->fin_s3);
  finalize->add_flag("--quiet,-q", c->fin_quiet, "print nothing but errors");
  finalize->add_flag("--json", c->fin_json, "print the run's summary as JSON on stdout");

  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check a finished run: manifests, every data file's size and ETag, no stray file in data/, counts; "
      "--deep also reads every file (MD5, decompression, lines)");
  c->verify_cmd = verify;
  verify->add_option("DEST", c->ver_dest, "s3://BUCKET/PREFIX or a local directory, as given to scan")
      ->required();
  verify->add_option("--run-id", c->ver_run_id, "the run to verify")->required();
  verify->add_flag("--deep", c->ver_deep,
                   "download every data file: MD5 against md5Checksum, decompress, count lines against "
                   "itemCount, parse every line as the run's format");
  verify->add_flag("--json", c->ver_json, "print the report as JSON on stdout");
  add_side(verify, c->ver_side, "dest", "the S3 bucket");
  verify->add_option("--expected-bucket-owner", c->ver_owner, "account id the bucket must belong to")
      ->group("S3");
  return c;
}

std::optional<int> ScanCommands::run(std::atomic<bool>* cancel) {
  ScanCommands& c = *this;
  if (c.scan_cmd->parsed()) return run_scan_command(c, cancel);
  if (c.finalize_cmd->parsed()) return run_finalize_command(c, cancel);
  if (c.verify_cmd->parsed()) return run_verify_command(c, cancel);
  return std::nullopt;
}

namespace {

// A fresh app with the scan commands, `command args...` parsed into them, and the options built from them.
template <class Options>
Result<Options> parse_args(std::string_view command, const std::vector<std::string>& args,
                           Result<Options> (*options)(const ScanCommands&)) {
  CLI::App app;
  auto commands = add_scan_commands(app);
  DDB2S3_RETURN_IF_ERROR(parse_command_args(app, command, args));
  return options(static_cast<const ScanCommands&>(*commands));
}

}  // namespace

Result<ScanOptions> parse_scan_args(const std::vector<std::string>& args) {
  return parse_args<ScanOptions>("scan", args, scan_options);
}
Result<FinalizeOptions> parse_finalize_args(const std::vector<std::string>& args) {
  return parse_args<FinalizeOptions>("finalize", args, finalize_options);
}
Result<VerifyOptions> parse_verify_args(const std::vector<std::string>& args) {
  return parse_args<VerifyOptions>("verify", args, verify_options);
}

Error scan_error_in_flag_words(Error e) { return in_flag_words_and_field(std::move(e), flag_names()); }

}  // namespace ddb2s3::cli

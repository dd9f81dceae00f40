// ddb2s3 command line: parses arguments into the library's options structs, runs, maps errors to exit
// codes (0 done, 1 failed or interrupted, 2 usage error before any AWS call).
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/export_command.h"
#include "report/progress.h"
#include "scan/scan.h"
#include "version.h"

namespace ddb2s3::cli {
namespace {

constexpr const char* kDescription =
    "ddb2s3 copies an Amazon DynamoDB table to Amazon S3: a native re-creation of Apache Airflow's\n"
    "DynamoDBToS3Operator.\n\n"
    "AWS configuration follows the AWS CLI: credentials from the environment, ~/.aws/credentials and\n"
    "~/.aws/config (profiles, credential_process, assume-role, SSO), web identity, container and EC2\n"
    "instance credentials; region from AWS_REGION / AWS_DEFAULT_REGION / the profile; endpoints from\n"
    "AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.\n\n"
    "Exit codes: 0 done, 1 failed (or interrupted), 2 usage error (nothing was called).";

std::atomic<bool> g_cancel{false};  // set by SIGINT/SIGTERM: the only state a signal handler may touch

extern "C" void on_signal(int) {
  if (g_cancel.exchange(true)) _exit(130);  // a second Ctrl-C: leave now
  static const char kMsg[] = "\nddb2s3: stopping: aborting uploads (Ctrl-C again to quit at once)\n";
  ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
  (void)ignored;
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
    auto parsed = object_options_from_extra_args(a.extra_args);
    if (!parsed) return std::move(parsed).error();
    o = std::move(*parsed);
  }
  struct Flag {
    const std::string& value;
    const char* header;
    const char* flag;
  };
  for (const Flag& f : {Flag{a.sse, "x-amz-server-side-encryption", "--sse"},
                        Flag{a.kms_key, "x-amz-server-side-encryption-aws-kms-key-id", "--sse-kms-key-id"},
                        Flag{a.storage_class, "x-amz-storage-class", "--storage-class"},
                        Flag{a.acl, "x-amz-acl", "--acl"}}) {
    if (f.value.empty()) continue;
    if (!o.get(f.header).empty())
      return Error::usage(std::string(f.flag) + " is given twice: as a flag and in --s3-extra-args; keep one");
    o.set(f.header, f.value);
  }
  if (!a.kms_key.empty() && o.get("x-amz-server-side-encryption").rfind("aws:kms", 0) != 0)
    return Error::usage("--sse-kms-key-id needs --sse aws:kms (or aws:kms:dsse)");
  return o;
}

int fail(const Error& e) {
  std::string text = e.to_string();
  std::fprintf(stderr, "ddb2s3: %s\n", text.c_str());
  return e.kind == ErrorKind::kUsage ? 2 : 1;
}

void print_summary(const ScanSummary& s, bool json, bool quiet) {
  if (json) {
    std::printf("%s\n", s.to_json().c_str());
    return;
  }
  if (quiet) return;
  std::string where = !s.summary_key.empty() ? s.summary_key : s.segment_manifest_key;
  std::fprintf(stderr, "ddb2s3: %s items from table '%s' in %zu files (%s) to %s in %.1f s\n",
               format_count(s.item_count).c_str(), s.table.c_str(), s.files.size(),
               format_bytes(s.stored_bytes).c_str(), s.destination.c_str(), s.seconds);
  if (!s.summary_key.empty()) std::fprintf(stderr, "ddb2s3: run %s complete: %s\n", s.run_id.c_str(), where.c_str());
  if (!s.segment_manifest_key.empty())
    std::fprintf(stderr, "ddb2s3: segment %d of run %s done: %s (run `ddb2s3 finalize` when all are)\n",
                 s.segment.value_or(0), s.run_id.c_str(), where.c_str());
}

}  // namespace

// glibc's defaults cost more than half the peak RSS with many segments: its mmap threshold rises to the
// largest buffer freed (pages, parser indexes, parts: 1-8 MiB), after which such buffers come from
// arenas that keep freed memory, and it keeps up to 8 arenas per core for the 2+ threads per segment.
// A fixed threshold returns big buffers to the system when freed; fewer arenas bound what is kept.
// Process-wide, so it is the program's choice (here), not the library's.
void tune_malloc() {
  mallopt(M_MMAP_THRESHOLD, 128 << 10);
  mallopt(M_ARENA_MAX, 4);
}

int run(int argc, char** argv) {
  tune_malloc();
  CLI::App app{kDescription, "ddb2s3"};
  app.set_version_flag("--version", std::string("ddb2s3 ") + DDB2S3_VERSION);
  app.require_subcommand(0, 1);
  app.footer("Run `ddb2s3 COMMAND --help` for a command's options.");

  // scan
  ScanOptions so;
  std::string dest_text, file_size = "128MiB", format = "jsonl", compression = "gzip", kwargs, names, values;
  SideArgs source, dest;
  S3Args s3;
  bool quiet = false, json = false, consistent = false;
  int64_t page_size = 0;
  int segment = -1;
  CLI::App* scan = app.add_subcommand("scan", "Scan a table and write every item to S3 (or a local directory)");
  scan->add_option("TABLE", so.table, "DynamoDB table name")->required();
  scan->add_option("DEST", dest_text, "s3://BUCKET/PREFIX or a local directory")->required();
  const char* req = "Scan request";
  scan->add_option("--scan-kwargs", kwargs, "any Scan fields as typed JSON (the operator's dynamodb_scan_kwargs)")
      ->group(req);
  scan->add_option("--filter", so.request.filter_expression, "FilterExpression")->group(req);
  scan->add_option("--projection", so.request.projection_expression, "ProjectionExpression")->group(req);
  scan->add_option("--names", names, "ExpressionAttributeNames as JSON, e.g. '{\"#s\":\"status\"}'")->group(req);
  scan->add_option("--values", values, "ExpressionAttributeValues as plain JSON, e.g. '{\":v\":5}'")->group(req);
  scan->add_option("--index", so.request.index_name, "IndexName: scan a secondary index")->group(req);
  scan->add_flag("--consistent-read", consistent, "ConsistentRead")->group(req);
  scan->add_option("--page-size", page_size, "Limit: items per Scan page")->check(CLI::PositiveNumber)->group(req);
  const char* out = "Output";
  scan->add_option("--format", format, "jsonl (default) or dynamodb-json")
      ->check(CLI::IsMember({"jsonl", "dynamodb-json"}))
      ->group(out);
  scan->add_option("--compression", compression, "gzip (default), zstd or none")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}))
      ->group(out);
  scan->add_option("--compression-level", so.compression_level, "gzip 0-3 (default 1), zstd 1-19 (default 1)")
      ->group(out);
  scan->add_option("--file-size", file_size, "roll data files at this size: 1000, 64MiB, 1GB (default 128MiB)")
      ->group(out);
  const char* par = "Parallel scan";
  scan->add_option("--total-segments", so.total_segments, "segments of the parallel scan (default 1)")->group(par);
  scan->add_option("--segment", segment, "run only this segment (0-based); needs --run-id")->group(par);
  scan->add_option("--parallelism", so.parallelism, "segments scanned at once (default: min(segments, 4 x cores))")
      ->check(CLI::PositiveNumber)
      ->group(par);
  scan->add_option("--run-id", so.run_id, "the run's folder under PREFIX (default: UTC time + random)")->group(par);
  add_side(scan, source, "source", "the DynamoDB table");
  add_side(scan, dest, "dest", "the S3 bucket");
  add_s3(scan, s3);
  scan->add_flag("--quiet,-q", quiet, "print nothing but errors");
  scan->add_flag("--json", json, "print the run's summary as JSON on stdout");

  // finalize
  FinalizeOptions fo;
  std::string fin_dest;
  SideArgs fin_side;
  S3Args fin_s3;
  bool fin_json = false, fin_quiet = false;
  CLI::App* finalize = app.add_subcommand(
      "finalize", "Write the manifests of a scan that many processes shared (--segment), once all segments are done");
  finalize->add_option("DEST", fin_dest, "s3://BUCKET/PREFIX or a local directory, as given to scan")->required();
  finalize->add_option("--run-id", fo.run_id, "the run id all segments used")->required();
  add_side(finalize, fin_side, "dest", "the S3 bucket");
  add_s3(finalize, fin_s3);
  finalize->add_flag("--quiet,-q", fin_quiet, "print nothing but errors");
  finalize->add_flag("--json", fin_json, "print the run's summary as JSON on stdout");

  auto export_commands = add_export_commands(app);  // export, export-status, exports (cli/export_command.cpp)

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (auto code = run_export_commands(*export_commands, &g_cancel)) return *code;

  if (scan->parsed()) {
    auto d = Destination::parse(dest_text);
    if (!d) return fail(d.error());
    so.dest = *d;
    auto size = parse_size(file_size);
    if (!size) {
      Error e = size.error();
      e.message = "--file-size: " + e.message;
      return fail(e);
    }
    so.file_size = *size;
    so.format = format == "jsonl" ? OutputFormat::kJsonl : OutputFormat::kDynamoDbJson;
    so.compression = *parse_compression(compression);
    GivenFlags given;
    if (!so.request.filter_expression.empty()) given.add("FilterExpression");
    if (!so.request.projection_expression.empty()) given.add("ProjectionExpression");
    if (!so.request.index_name.empty()) given.add("IndexName");
    if (!names.empty()) {
      so.request.expression_attribute_names_json = names;
      given.add("ExpressionAttributeNames");
    }
    if (!values.empty()) {
      auto typed = marshal_plain_values(values);
      if (!typed) return fail(typed.error());
      so.request.expression_attribute_values_json = *typed;
      given.add("ExpressionAttributeValues");
    }
    if (consistent) {
      so.request.consistent_read = true;
      given.add("ConsistentRead");
    }
    if (page_size > 0) {
      so.request.limit = page_size;
      given.add("Limit");
    }
    if (scan->count("--total-segments")) given.add("TotalSegments");
    if (segment >= 0 || scan->count("--segment")) {
      so.segment = segment;
      given.add("Segment");
    }
    if (!kwargs.empty()) {
      if (auto s = apply_scan_kwargs(kwargs, given, so); !s) return fail(s.error());
    }
    so.source = source.options();
    so.dest_aws = dest.options();
    auto oo = object_options(s3);
    if (!oo) return fail(oo.error());
    so.object_options = *oo;
    so.expected_bucket_owner = s3.expected_owner;
    so.cancel = &g_cancel;
    ScanProgress progress;
    so.progress = &progress;
    Result<ScanSummary> result = Error::internal("not run");
    {
      ProgressPrinter printer(progress, stderr, !quiet && isatty(2));
      result = run_scan(std::move(so));
    }
    if (!result) {
      if (result.error().kind == ErrorKind::kCancelled) {
        std::fprintf(stderr, "ddb2s3: interrupted: uploads aborted, no manifest-summary.json written\n");
        return 1;
      }
      return fail(result.error());
    }
    print_summary(*result, json, quiet);
    return 0;
  }
  if (finalize->parsed()) {
    auto d = Destination::parse(fin_dest);
    if (!d) return fail(d.error());
    fo.dest = *d;
    fo.dest_aws = fin_side.options();
    auto oo = object_options(fin_s3);
    if (!oo) return fail(oo.error());
    fo.object_options = *oo;
    fo.expected_bucket_owner = fin_s3.expected_owner;
    auto result = finalize_run(std::move(fo));
    if (!result) return fail(result.error());
    print_summary(*result, fin_json, fin_quiet);
    return 0;
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace ddb2s3::cli

int main(int argc, char** argv) { return ddb2s3::cli::run(argc, argv); }

// `ddb2s3 merge`: a snapshot plus incremental exports into a new snapshot (pitr/merge.h), in one process or
// one partition per process (--partition) and then --finalize.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "base/json_writer.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/parse.h"
#include "pitr/chain.h"
#include "pitr/merge.h"
#include "scan/parallel.h"

namespace ddb2s3::cli {

class MergeCommands final : public Commands {
 public:
  std::optional<int> run(std::atomic<bool>* cancel) override;
  CLI::App* merge_cmd = nullptr;
  CLI::Option* partitions_opt = nullptr;
  std::string base, to, file_size = "256MiB", partition;
  std::vector<std::string> incrementals, key_attributes;
  int partitions = 16;
  std::string profile, region, endpoint_url;
  bool finalize = false, json = false, quiet = false;
};

namespace {

const std::vector<FlagName>& flag_names() {
  static const std::vector<FlagName> names = {
      {"BASE", "base", ""},
      {"--incremental", "incrementals", ""},
      {"--to", "to", ""},
      {"--partitions", "partitions", ""},
      {"--partition", "partition", ""},
      {"--key", "key_attributes", ""},
      {"--file-size", "file_size", ""},
      {"--endpoint-url", "endpoint_url", ""},
      {"--region", "region", ""},
      {"--profile", "profile", ""},
  };
  return names;
}

// --partition I or auto (the array job's index, read as `scan --segment auto` reads it), once --partitions
// is known. Errors are in flag words already: print them with fail(e, {}).
Result<int> parse_partition(const std::string& text, int partitions, const Environment& env) {
  if (text == "auto") {
    auto index = segment_from_scheduler(env, partitions);
    if (index) return *index;
    // The scheduler's index is a segment there; here it is a partition of `partitions`.
    static const std::vector<FlagName> words = {{"--partition", "segment", ""},
                                                {"--partitions", "total_segments", ""}};
    Error e = in_flag_words(index.error(), words);
    e.field = "partition";
    return e;
  }
  int n = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0)
    return Error::usage("--partition takes a number from 0 to --partitions - 1 (" +
                        std::to_string(partitions - 1) + ") or auto, not '" + text + "'")
        .with_field("partition");
  if (n >= partitions)
    return Error::usage("--partition must be from 0 to --partitions - 1 (" + std::to_string(partitions - 1) +
                        "), not " + std::to_string(n))
        .with_field("partition");
  return n;
}

// Which of the three runs the flags ask for, with its usage errors before any I/O (in flag words already).
Status check_flags(const MergeCommands& c) {
  const bool gave_partitions = c.partitions_opt->count() > 0;
  if (c.finalize) {
    if (!c.partition.empty())
      return Error::usage(
                 "--finalize gathers every partition after their runs: give --partition to those runs, "
                 "not to --finalize")
          .with_field("partition");
    if (!gave_partitions)
      return Error::usage("--finalize needs --partitions K, as the partitions' runs were given it")
          .with_field("partitions");
    if (c.to.empty()) return Error::usage("--finalize needs --to, the merge's destination").with_field("to");
    if (c.base.empty() && !c.incrementals.empty())
      return Error::usage("--finalize checks --incremental against the partitions only with BASE given too")
          .with_field("incrementals");
    return {};
  }
  if (c.base.empty())
    return Error::usage("merge needs BASE, the snapshot (or --finalize after the partitions' runs)")
        .with_field("base");
  if (c.to.empty()) return Error::usage("merge needs --to, where the new snapshot goes").with_field("to");
  if (!c.partition.empty() && !gave_partitions)
    return Error::usage("--partition needs --partitions K, the same K in every partition's run")
        .with_field("partition");
  return {};
}

void print_json(const MergeCommands& c, const MergeOutcome& outcome) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("mode", c.finalize ? "finalize" : outcome.partition >= 0 ? "partition" : "merge");
  w.number("partitions", outcome.partitions);
  if (outcome.partition >= 0) {
    w.number("partition", outcome.partition);
    w.string("partition_manifest_key", outcome.partition_manifest_key);
    w.key("already_done");
    out += outcome.already_done ? "true" : "false";
  } else {
    w.string("summary_key", outcome.summary_key);
  }
  write_merge_counts(w, outcome);
  w.close();
  std::printf("%s\n", out.c_str());
}

void print_text(const MergeCommands& c, const MergeOutcome& o) {
  if (o.already_done) {
    std::fprintf(stderr, "ddb2s3: partition %d of %d is already done: %s exists; nothing to do\n",
                 o.partition, o.partitions, o.partition_manifest_key.c_str());
    return;
  }
  const char* what = c.finalize ? "finalized" : "merged";
  std::string scope;
  if (c.finalize) scope = " " + std::to_string(o.partitions) + " partitions:";
  if (o.partition >= 0)
    scope = " partition " + std::to_string(o.partition) + " of " + std::to_string(o.partitions) + ":";
  std::fprintf(stderr,
               "%s%s %" PRId64 " items (%" PRId64 " from the snapshot; %" PRId64 " change records, %" PRId64
               " keys changed, %" PRId64 " deleted) %s %zu data files; ",
               what, scope.c_str(), o.items, o.base_items, o.change_records, o.changed_keys, o.deleted_keys,
               c.finalize ? "in" : "into", o.files.size());
  if (o.partition >= 0)
    std::fprintf(stderr, "%s written (run `ddb2s3 merge --finalize --to %s --partitions %d` when all are)\n",
                 o.partition_manifest_key.c_str(), c.to.c_str(), o.partitions);
  else
    std::fprintf(stderr, "%s written last\n", o.summary_key.c_str());
}

// `merge s3://BUCKET/PREFIX` of a chain: its exports not in its snapshot yet, merged into the next one and
// recorded (one partition of it, or the finalize of its partitions' runs).
int run_chain_merge(MergeCommands& c, uint64_t file_size) {
  if (!c.partition.empty() && c.partitions_opt->count() == 0)
    return fail(Error::usage("--partition needs --partitions K, the same K in every partition's run")
                    .with_field("partition"),
                {});
  if (c.finalize && !c.partition.empty())
    return fail(Error::usage("--finalize gathers every partition after their runs: give --partition to those "
                             "runs, not to --finalize")
                    .with_field("partition"),
                {});
  if (!c.key_attributes.empty())
    return fail(Error::usage("a chain knows its table's key: leave out --key").with_field("key_attributes"),
                flag_names());
  ChainMergeOptions o;
  o.chain = c.base;
  o.to = c.to;
  o.partitions = c.partitions;
  o.finalize = c.finalize;
  o.file_size = file_size;
  o.s3 = AwsOptions{c.profile, c.region, c.endpoint_url};
  if (!c.partition.empty()) {
    auto partition = parse_partition(c.partition, c.partitions, o.env);
    if (!partition) return fail(partition.error(), {});
    o.partition = *partition;
  }
  auto r = merge_chain(o);
  if (!r) return fail(r.error(), flag_names());
  if (c.json) {
    std::string out;
    JsonObjectWriter w(out);
    w.string("mode", "chain");
    w.key("up_to_date");
    out += r->up_to_date ? "true" : "false";
    w.string("snapshot", r->state.snapshot.location);
    w.string("through", format_time(r->state.snapshot.through));
    if (!r->up_to_date) {
      w.string("to", r->to);
      w.number("partitions", r->merge.partitions);
      if (r->partition_only) w.number("partition", r->merge.partition);
      write_merge_counts(w, r->merge);
    }
    w.close();
    std::printf("%s\n", out.c_str());
  } else if (!c.quiet) {
    if (r->up_to_date)
      std::fprintf(stderr,
                   "ddb2s3: the chain's snapshot %s holds every export already (through %s): nothing to do\n",
                   r->state.snapshot.location.c_str(), format_time(r->state.snapshot.through).c_str());
    else if (r->partition_only)
      std::fprintf(
          stderr,
          "ddb2s3: partition %d of %d of %s written (run `ddb2s3 merge %s --finalize --partitions %d` "
          "when all are)\n",
          r->merge.partition, r->merge.partitions, r->to.c_str(), c.base.c_str(), r->merge.partitions);
    else
      std::fprintf(stderr, "ddb2s3: the chain's snapshot is now %s: %" PRId64 " items, through %s\n",
                   r->state.snapshot.location.c_str(), r->state.snapshot.item_count,
                   format_time(r->state.snapshot.through).c_str());
  }
  return 0;
}

int run_merge(MergeCommands& c) {
  // Usage errors first, before the S3 call that tells a chain from a snapshot.
  auto file_size = parse_size(c.file_size);
  if (!file_size)
    return fail(Error::usage("--file-size: " + file_size.error().message).with_field("file_size"),
                flag_names());
  if (!c.base.empty() && c.incrementals.empty()) {
    auto chain =
        is_chain(c.base, AwsOptions{c.profile, c.region, c.endpoint_url}, Environment::process(), {});
    if (!chain) return fail(chain.error(), flag_names());
    if (*chain) return run_chain_merge(c, *file_size);
  }
  if (Status s = check_flags(c); !s) return fail(s.error(), {});
  MergeOptions o;
  o.base = c.base;
  o.incrementals = c.incrementals;
  o.to = c.to;
  o.partitions = c.partitions;
  o.key_attributes = c.key_attributes;
  o.file_size = *file_size;
  o.s3 = AwsOptions{c.profile, c.region, c.endpoint_url};
  if (!c.partition.empty()) {
    auto partition = parse_partition(c.partition, c.partitions, o.env);
    if (!partition) return fail(partition.error(), {});
    o.partition = *partition;
  }
  auto outcome = c.finalize ? finalize_merge(o) : merge_exports(o);
  if (!outcome) return fail(outcome.error(), flag_names());
  if (c.json)
    print_json(c, *outcome);
  else if (!c.quiet)
    print_text(c, *outcome);
  return 0;
}

}  // namespace

void write_merge_counts(JsonObjectWriter& w, const MergeOutcome& outcome) {
  w.number("items", outcome.items);
  w.number("base_items", outcome.base_items);
  w.number("change_records", outcome.change_records);
  w.number("changed_keys", outcome.changed_keys);
  w.number("deleted_keys", outcome.deleted_keys);
  w.number("files", outcome.files.size());
}

std::unique_ptr<Commands> add_merge_commands(CLI::App& app) {
  auto c = std::make_unique<MergeCommands>();
  CLI::App* m = app.add_subcommand(
      "merge", "Apply incremental exports, oldest first, to a snapshot and write a new snapshot");
  c->merge_cmd = m;
  m->footer(
      "Many machines: run `ddb2s3 merge BASE --incremental ... --to DEST --partitions K --partition I` once "
      "for each I in 0..K-1 (or --partition auto in an array job of K tasks), then `ddb2s3 merge --finalize "
      "--to DEST --partitions K`. A partition already done is skipped; one that failed is run again.");
  m->add_option(
      "BASE", c->base,
      "the snapshot: a full export's folder (s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID) or a merge's "
      "--to; a .../manifest-summary.json stands for its folder (not needed with --finalize); or a chain "
      "(s3://BUCKET/PREFIX of `export --chain`): its new exports merged into its next snapshot");
  m->add_option("--incremental", c->incrementals,
                "incremental exports' folders, oldest first (repeat the flag or list them)")
      ->expected(1, -1);
  m->add_option("--to", c->to,
                "where the new snapshot goes: s3://BUCKET/PREFIX or a directory (a chain: default "
                "PREFIX/snapshots/TIME)");
  c->partitions_opt =
      m->add_option("--partitions", c->partitions,
                    "key-hash partitions (default 16): one partition's changes are held in memory at a time")
          ->check(CLI::Range(1, 4096));
  m->add_option(
       "--partition", c->partition,
       "merge only this partition (0-based; needs --partitions, the same in every run), or auto: "
       "the array job's index from JOB_COMPLETION_INDEX (Kubernetes), AWS_BATCH_JOB_ARRAY_INDEX (AWS "
       "Batch) or SLURM_ARRAY_TASK_ID (Slurm); writes partitions/pPPPP.json under --to, not the snapshot's "
       "manifests")
      ->type_name("INT|auto");
  m->add_flag("--finalize", c->finalize,
              "after every partition's run: check their manifests and write the snapshot's manifests (needs "
              "--to and --partitions; BASE not needed)");
  m->add_option("--key", c->key_attributes,
                "key attribute names (default: those of the change records' Keys)")
      ->expected(1, 2);
  m->add_option("--file-size", c->file_size, "uncompressed bytes per data file (default 256MiB)");
  const char* group = "AWS (S3 side)";
  m->add_option("--profile", c->profile, "AWS profile")->group(group);
  m->add_option("--region", c->region, "AWS region")->group(group);
  m->add_option("--endpoint-url", c->endpoint_url, "S3 endpoint URL")->group(group);
  m->add_flag("--json", c->json, "print the outcome as JSON on stdout");
  m->add_flag("--quiet,-q", c->quiet, "print nothing but errors (and --json)");
  return c;
}

std::optional<int> MergeCommands::run(std::atomic<bool>*) {
  if (!merge_cmd->parsed()) return std::nullopt;
  return run_merge(*this);
}

}  // namespace ddb2s3::cli

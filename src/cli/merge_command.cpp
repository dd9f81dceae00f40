// `ddb2s3 merge`: a snapshot plus incremental exports into a new snapshot (pitr/merge.h).
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "base/json_writer.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "pitr/merge.h"

namespace ddb2s3::cli {

class MergeCommands final : public Commands {
 public:
  std::optional<int> run(std::atomic<bool>* cancel) override;
  CLI::App* merge_cmd = nullptr;
  std::string base, to, file_size = "256MiB";
  std::vector<std::string> incrementals, key_attributes;
  int partitions = 16;
  std::string profile, region, endpoint_url;
  bool json = false, quiet = false;
};

namespace {

const std::vector<FlagName>& flag_names() {
  static const std::vector<FlagName> names = {
      {"BASE", "base", ""},
      {"--incremental", "incrementals", ""},
      {"--to", "to", ""},
      {"--partitions", "partitions", ""},
      {"--key", "key_attributes", ""},
      {"--file-size", "file_size", ""},
      {"--endpoint-url", "endpoint_url", ""},
      {"--region", "region", ""},
      {"--profile", "profile", ""},
  };
  return names;
}

int run_merge(MergeCommands& c) {
  MergeOptions o;
  o.base = c.base;
  o.incrementals = c.incrementals;
  o.to = c.to;
  o.partitions = c.partitions;
  o.key_attributes = c.key_attributes;
  auto size = parse_size(c.file_size);
  if (!size)
    return fail(Error::usage("--file-size: " + size.error().message).with_field("file_size"), flag_names());
  o.file_size = *size;
  o.s3 = AwsOptions{c.profile, c.region, c.endpoint_url};
  auto outcome = merge_exports(o);
  if (!outcome) return fail(outcome.error(), flag_names());
  if (c.json) {
    std::string out;
    JsonObjectWriter w(out);
    w.string("summary_key", outcome->summary_key);
    w.key("items");
    out += std::to_string(outcome->items);
    w.key("base_items");
    out += std::to_string(outcome->base_items);
    w.key("change_records");
    out += std::to_string(outcome->change_records);
    w.key("changed_keys");
    out += std::to_string(outcome->changed_keys);
    w.key("deleted_keys");
    out += std::to_string(outcome->deleted_keys);
    w.key("files");
    out += std::to_string(outcome->files.size());
    w.close();
    std::printf("%s\n", out.c_str());
  } else if (!c.quiet) {
    std::fprintf(stderr,
                 "merged %" PRId64 " items (%" PRId64 " from the snapshot; %" PRId64
                 " change records, %" PRId64 " keys changed, %" PRId64
                 " deleted) into %zu data files; %s written last\n",
                 outcome->items, outcome->base_items, outcome->change_records, outcome->changed_keys,
                 outcome->deleted_keys, outcome->files.size(), outcome->summary_key.c_str());
  }
  return 0;
}

}  // namespace

std::unique_ptr<Commands> add_merge_commands(CLI::App& app) {
  auto c = std::make_unique<MergeCommands>();
  CLI::App* m = app.add_subcommand(
      "merge", "Apply incremental exports, oldest first, to a snapshot and write a new snapshot");
  c->merge_cmd = m;
  m->add_option(
       "BASE", c->base,
       "the snapshot: a full export's folder (s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID) or a merge's "
       "--to; a .../manifest-summary.json stands for its folder")
      ->required();
  m->add_option("--incremental", c->incrementals,
                "incremental exports' folders, oldest first (repeat the flag or list them)")
      ->expected(1, -1);
  m->add_option("--to", c->to, "where the new snapshot goes: s3://BUCKET/PREFIX or a directory")->required();
  m->add_option("--partitions", c->partitions,
                "key-hash partitions (default 16): one partition's changes are held in memory at a time")
      ->check(CLI::Range(1, 4096));
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

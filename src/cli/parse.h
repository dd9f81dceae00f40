// One parser for the command line and for callers that hold a command's arguments as a list (the Python
// module): a command's argument list, what follows its name ("TABLE", "DEST", "--file-size=64MiB", ...), into
// the library's options, with the command's own flag table and checks. The commands of the ddb2s3 program
// build their options with these same functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_writer.h"
#include "base/result.h"
#include "pitr/chain.h"
#include "pitr/pitr.h"
#include "scan/scan.h"
#include "scan/verify.h"

namespace ddb2s3::cli {

// Usage errors (kUsage, before any AWS call) are in flag words ("--file-size: ..."). The options' cancel,
// progress and callbacks are left unset; --json, --quiet and --help are accepted and have no effect here.
Result<ScanOptions> parse_scan_args(const std::vector<std::string>& args);
Result<FinalizeOptions> parse_finalize_args(const std::vector<std::string>& args);
Result<VerifyOptions> parse_verify_args(const std::vector<std::string>& args);
Result<ExportOptions> parse_export_args(const std::vector<std::string>& args);
// `export TABLE s3://BUCKET/PREFIX --chain ...` (--chain among args).
Result<ChainRunOptions> parse_export_chain_args(const std::vector<std::string>& args);
Result<ExportStatusOptions> parse_export_status_args(const std::vector<std::string>& args);

// The long flags of a command ("scan", "finalize", "verify", "export", "export-status", "merge"), each name a
// flag has
// ("--profile" and "--source-profile"), without --help, --json and --quiet; empty for an unknown command.
std::vector<std::string> command_flags(std::string_view command);

// An error of the library's run of a command, in that command's flag words (total_segments ->
// --total-segments) as the program prints it, and its field the flag at fault (--total-segments) when that
// setting has one. scan_error_in_flag_words serves scan, finalize and verify.
Error scan_error_in_flag_words(Error e);
Error export_error_in_flag_words(Error e);

// What `export` and `export-status` print with --json: the latest ExportDescription, as DynamoDB sent it.
std::string export_json(const ExportOutcome& outcome);
// What `export --chain` prints with --json: action, state, exports (ExportDescriptions), through,
// incrementals, nextWindow (up to date), snapshot, merge (with --merge).
std::string chain_json(const ChainRunOutcome& outcome);

// A merge's counts as `merge --json` and `export --chain --merge --json` print them: items, base_items,
// change_records, changed_keys, deleted_keys, files.
void write_merge_counts(JsonObjectWriter& w, const MergeOutcome& outcome);

}  // namespace ddb2s3::cli

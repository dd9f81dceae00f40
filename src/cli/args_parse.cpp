// The parts of cli/parse.h that serve every command: an argument list through a command's CLI11 app, and the
// command's flags.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/args_parse_internal.h"
#include "cli/commands.h"
#include "cli/parse.h"

namespace ddb2s3::cli {

Status parse_command_args(CLI::App& app, std::string_view command, const std::vector<std::string>& args) {
  // CLI11 takes the arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  reversed.emplace_back(command);
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return Error::usage("--help prints help on the command line only");
  } catch (const CLI::ParseError& e) {
    return Error::usage(e.what());
  }
  CLI::App* sub = app.get_subcommand(std::string(command));
  if (!sub->parsed()) return Error::usage("no command " + std::string(command));
  return {};
}

Error in_flag_words_and_field(Error e, const std::vector<FlagName>& names) {
  const std::string field = e.field;
  Error out = in_flag_words(std::move(e), names);
  for (const FlagName& n : names) {
    if (field.empty() || (n.option != field && n.aws_field != field)) continue;
    if (n.flag.rfind("--", 0) == 0) out.field = std::string(n.flag);
    break;
  }
  return out;
}

std::vector<std::string> command_flags(std::string_view command) {
  CLI::App app;
  auto scan = add_scan_commands(app);
  auto exports = add_export_commands(app);
  auto merge = add_merge_commands(app);
  std::vector<std::string> flags;
  CLI::App* sub = nullptr;
  try {
    sub = app.get_subcommand(std::string(command));
  } catch (const CLI::OptionNotFound&) {
    return flags;
  }
  for (const CLI::Option* o : sub->get_options()) {
    for (const std::string& name : o->get_lnames()) {
      if (name == "help" || name == "json" || name == "quiet") continue;
      flags.push_back("--" + name);
    }
  }
  std::sort(flags.begin(), flags.end());
  return flags;
}

}  // namespace ddb2s3::cli

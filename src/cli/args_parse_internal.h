// Shared by the commands' files for cli/parse.h (not part of the cli module's public surface).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/args.h"

namespace CLI {
class App;
}

namespace ddb2s3::cli {

// Parses `command args...` with app, whose commands were added to it; CLI11's refusals become usage errors
// (CLI11's message, which names the flag).
Status parse_command_args(CLI::App& app, std::string_view command, const std::vector<std::string>& args);

// in_flag_words(e, names), and e.field, when it names a setting that has a flag, becomes that flag.
Error in_flag_words_and_field(Error e, const std::vector<FlagName>& names);

}  // namespace ddb2s3::cli

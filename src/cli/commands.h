// The command line's subcommands, a group to a file (scan_command.cpp: scan, finalize and verify;
// export_command.cpp: export, export-status and exports): added to the app before parsing, run after.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace ddb2s3::cli {

// One group of subcommands and the values parsed for them.
class Commands {
 public:
  virtual ~Commands() = default;
  // When one of the group's subcommands was given, runs it and returns its exit code (0 done, 1 failed,
  // interrupted or timed out, 2 usage error); nullopt when another command was given.
  virtual std::optional<int> run(std::atomic<bool>* cancel) = 0;
};

std::unique_ptr<Commands> add_scan_commands(CLI::App& app);    // scan, finalize, verify
std::unique_ptr<Commands> add_export_commands(CLI::App& app);  // export, export-status, exports
std::unique_ptr<Commands> add_merge_commands(CLI::App& app);   // merge

}  // namespace ddb2s3::cli

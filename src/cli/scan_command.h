// The `scan` and `finalize` subcommands (scan mode), kept apart from main.cpp as the export commands are:
// add them to the app before parsing, run them after.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace ddb2s3::cli {

class ScanCommands;

// Adds the two subcommands to app; the returned object holds their parsed values.
std::shared_ptr<ScanCommands> add_scan_commands(CLI::App& app);

// When one of them was given, runs it and returns its exit code (0 done, 1 failed or interrupted, 2 usage
// error); nullopt when another command was given.
std::optional<int> run_scan_commands(ScanCommands& commands, std::atomic<bool>* cancel);

}  // namespace ddb2s3::cli

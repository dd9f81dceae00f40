// The `export`, `export-status` and `exports` subcommands (point-in-time export mode), kept apart from
// main.cpp: add them to the app before parsing, run them after.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace ddb2s3::cli {

class ExportCommands;

// Adds the three subcommands to app; the returned object holds their parsed values.
std::shared_ptr<ExportCommands> add_export_commands(CLI::App& app);

// When one of them was given, runs it and returns its exit code (0 COMPLETED or listed, 1 FAILED, timed out
// or an AWS error, 2 usage error); nullopt when another command was given.
std::optional<int> run_export_commands(ExportCommands& commands, std::atomic<bool>* cancel);

}  // namespace ddb2s3::cli

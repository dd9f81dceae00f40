// ddb2s3 command line: the app, its signals and its commands (cli/scan_command.cpp, cli/export_command.cpp,
// which parse into the library's options, run, and map errors to flags and to exit codes: 0 done, 1 failed
// or interrupted, 2 usage error before any AWS call).
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "cli/commands.h"
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
    "Ctrl-C or SIGTERM stops at once, also while a request waits to retry: uploads in flight are aborted\n"
    "and no manifest-summary.json is written (Ctrl-C again quits without cleaning up).\n\n"
    "Exit codes: 0 done, 1 failed (or interrupted), 2 usage error (nothing was called).";

std::atomic<bool> g_cancel{false};  // set by SIGINT/SIGTERM: the only state a signal handler may touch

extern "C" void on_signal(int) {
  if (g_cancel.exchange(true)) _exit(130);  // a second Ctrl-C: leave now
  static const char kMsg[] = "\nddb2s3: stopping: aborting uploads (Ctrl-C again to quit at once)\n";
  ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
  (void)ignored;
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
  auto scan_commands = add_scan_commands(app);      // scan, finalize, verify (cli/scan_command.cpp)
  auto export_commands = add_export_commands(app);  // export, export-status, exports (cli/export_command.cpp)
  auto merge_commands = add_merge_commands(app);    // merge (cli/merge_command.cpp)

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  for (Commands* commands : {scan_commands.get(), export_commands.get(), merge_commands.get()})
    if (auto code = commands->run(&g_cancel)) return *code;
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace ddb2s3::cli

int main(int argc, char** argv) { return ddb2s3::cli::run(argc, argv); }

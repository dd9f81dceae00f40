// Child processes for tests that run a built binary as a user would.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "support/files.h"

namespace ddb2s3::testing {

struct ProcessOutcome {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out, err;
};

// One process started at construction: stdout and stderr go to files (no pipe to drain while it
// runs), stdin is /dev/null, and its environment is exactly `env`. The destructor waits for it.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::map<std::string, std::string>& env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }  // e.g. to send it a signal
  // Waits for the end; exit code and everything written. Once only.
  ProcessOutcome wait();

 private:
  TempDir dir_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
};

// Starts argv (argv[0] a path) with exactly env and waits for it.
ProcessOutcome run_process(std::vector<std::string> argv, const std::map<std::string, std::string>& env);

// The built ddb2s3 binary followed by args, as argv for ChildProcess or run_process.
std::vector<std::string> ddb2s3_argv(const std::vector<std::string>& args);

}  // namespace ddb2s3::testing

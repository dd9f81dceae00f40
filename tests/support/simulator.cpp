#include "support/simulator.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "support/servers.h"

extern char** environ;

namespace ddb2s3::testing {

std::string simulator_path() { return binary_dir() + "/bench/ddb2s3-sim"; }

bool simulator_built() { return access(simulator_path().c_str(), X_OK) == 0; }

Simulator::Simulator(std::vector<std::string> args) {
  args.insert(args.begin(), simulator_path());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  // The first line says where it listens: "ready dynamodb=URL s3=URL items=N table_bytes=N".
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"(dynamodb=(\S+) s3=(\S+))"))) {
    dynamodb_ = m[1];
    s3_ = m[2];
  }
}

Simulator::~Simulator() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

}  // namespace ddb2s3::testing

#include "support/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "support/servers.h"

namespace ddb2s3::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv_s, const std::map<std::string, std::string>& env) {
  out_path_ = dir_.file("stdout");
  err_path_ = dir_.file("stderr");
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv_s[0] << ": " << std::strerror(rc);
    pid_ = -1;
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) wait();
}

ProcessOutcome ChildProcess::wait() {
  ProcessOutcome o;
  if (pid_ <= 0) return o;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = read_file(out_path_);
  o.err = read_file(err_path_);
  return o;
}

ProcessOutcome run_process(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
  return ChildProcess(std::move(argv), env).wait();
}

std::vector<std::string> ddb2s3_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary_dir() + "/ddb2s3"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace ddb2s3::testing

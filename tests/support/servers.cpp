#include "support/servers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

namespace ddb2s3::testing {
namespace {

std::string json_field(const std::string& line, const std::string& name) {
  auto key = "\"" + name + "\":\"";
  auto at = line.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  return line.substr(at, line.find('"', at) - at);
}

class ServerProcess {
 public:
  ServerProcess() {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) fail("pipe failed");
    std::string script = source_dir() + "/tests/support/servers.js";
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) fail("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      dup2(in[0], 0);
      dup2(out[1], 1);
      // s3rver makes ListObjectsV2 continuation tokens with DES, which Node 17+ refuses without this.
      execlp("node", "node", "--openssl-legacy-provider", script.c_str(), static_cast<char*>(nullptr));
      std::perror("exec node");
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(out[0]);
    servers_.dynamodb = json_field(line, "dynamodb");
    servers_.s3 = json_field(line, "s3");
    servers_.s3_dir = json_field(line, "s3_dir");
    if (servers_.dynamodb.empty() || servers_.s3.empty())
      fail("tests/support/servers.js did not start dynalite and s3rver (run scripts/install-deps?); it printed: " +
           line);
  }
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    close(stdin_);  // servers.js stops when its stdin closes
    int status = 0;
    for (int i = 0; i < 300; ++i) {  // up to 3 s, then kill
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      usleep(10'000);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  const LocalServers& servers() const { return servers_; }

 private:
  [[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "test harness: %s\n", why.c_str());
    if (pid_ > 0) kill(pid_, SIGKILL);
    std::exit(1);
  }
  pid_t pid_ = 0;
  int stdin_ = -1;
  LocalServers servers_;
};

}  // namespace

const LocalServers& local_servers() {
  // Destroyed at exit, which stops the servers; a crash is covered by PDEATHSIG and the pipe.
  static ServerProcess process;
  return process.servers();
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter.fetch_add(1));
}

std::string source_dir() { return DDB2S3_SOURCE_DIR; }
std::string binary_dir() { return DDB2S3_BINARY_DIR; }
std::string testdata_dir() { return DDB2S3_TESTDATA_DIR; }

}  // namespace ddb2s3::testing

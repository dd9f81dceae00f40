// The ddb2s3 binary on the failure paths a user meets: Ctrl-C or SIGTERM while a request backs off
// (throttled Scan, throttled UploadPart) stops at once, aborts the uploads and writes no summary; a full
// or read-only local destination fails with the path, the OS error and what to do, publishing nothing.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/files.h"
#include "support/http_server.h"
#include "support/mount.h"
#include "support/process.h"
#include "support/simulator.h"

namespace ddb2s3::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> child_env(const TempDir& home) {
  return {{"PATH", "/usr/bin:/bin"},        {"HOME", home.path()},
          {"AWS_ACCESS_KEY_ID", "x"},       {"AWS_SECRET_ACCESS_KEY", "y"},
          {"AWS_REGION", "us-east-1"},      {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
}

uint64_t json_number(const std::string& json, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + name + "\":(\\d+)"))) return 0;
  return std::stoull(m[1]);
}

// Polls until done() holds, for at most `limit` (a condition of another process: no event to wait on).
template <class Done>
bool eventually(Done done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

struct Stopped {
  ProcessOutcome outcome;
  double seconds = 0;  // from the signal to the exit
};

Stopped signal_and_wait(ChildProcess& child, int signal) {
  const auto sent = Clock::now();
  EXPECT_EQ(kill(child.pid(), signal), 0);
  Stopped s;
  s.outcome = child.wait();
  s.seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  std::printf("stopped %.3f s after the signal\n", s.seconds);  // the figure README's Failure paths gives
  return s;
}

// The bound a stop must meet: the back-off it interrupts is then up to 6-13 s long (attempts 8-9), the
// attempts left up to 20 s each; a stop that waits for them is far slower.
constexpr double kPromptStopSeconds = 3.0;

class SignalInBackOff : public ::testing::TestWithParam<int> {};

// Every Scan is throttled: after 7 attempts (back-offs of up to 50 ms x 2^6 so far), the request is in a
// back-off of up to 6.4 s, with two more attempts to come. The signal ends the run within a fraction of that.
TEST_P(SignalInBackOff, AThrottledScanStopsAtOnceAndWritesNothing) {
  ASSERT_TRUE(simulator_built()) << simulator_path();
  Simulator sim({"--items", "1000", "--item-bytes", "200", "--throttle-rate", "1"});
  ASSERT_FALSE(sim.dynamodb().empty());
  TempDir home, out;
  ChildProcess child(ddb2s3_argv({"scan", "bench", out.path(), "--source-endpoint-url", sim.dynamodb(),
                                  "--run-id", "r1", "--quiet"}),
                     child_env(home));
  httplib::Client stats("127.0.0.1", std::stoi(sim.dynamodb().substr(sim.dynamodb().rfind(':') + 1)));
  ASSERT_TRUE(eventually([&] {
    auto r = stats.Get("/__stats");
    return r && json_number(r->body, "scan_requests") >= 7;
  })) << "the Scan was not retried 7 times within 60 s";

  Stopped s = signal_and_wait(child, GetParam());
  EXPECT_EQ(s.outcome.exit_code, 1) << s.outcome.err;
  EXPECT_LT(s.seconds, kPromptStopSeconds) << s.outcome.err;
  EXPECT_NE(s.outcome.err.find("interrupted"), std::string::npos) << s.outcome.err;  // not "throttled"
  EXPECT_EQ(files_under(out.path()), std::vector<std::string>{});  // no data file, no manifest
}

INSTANTIATE_TEST_SUITE_P(SigintAndSigterm, SignalInBackOff, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

// An S3 that takes multipart uploads but throttles every part (503 SlowDown), and records what it saw.
class ThrottlingS3 {
 public:
  ThrottlingS3() {
    server_.serve_all([this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    server_.start();
  }
  std::string url() const { return server_.url(); }
  int part_attempts() const { return parts_.load(); }
  std::set<std::string> created() const {
    std::lock_guard lock(mu_);
    return created_;
  }
  std::set<std::string> aborted() const {
    std::lock_guard lock(mu_);
    return aborted_;
  }
  std::vector<std::string> put_keys() const {
    std::lock_guard lock(mu_);
    return puts_;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    const bool bucket_only = req.path.find('/', 1) == std::string::npos;
    if (req.method == "HEAD" || req.method == "GET") {
      if (bucket_only) return;  // HeadBucket
      res.status = 404;
      res.set_content(
          "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
          "application/xml");
    } else if (req.method == "POST" && req.has_param("uploads")) {
      std::string id = "up-" + std::to_string(created_.size() + 1);
      created_.insert(id);
      res.set_content(
          "<InitiateMultipartUploadResult><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>",
          "application/xml");
    } else if (req.method == "PUT" && req.has_param("partNumber")) {
      ++parts_;
      res.status = 503;
      res.set_content(
          "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
          "application/xml");
    } else if (req.method == "PUT") {
      puts_.push_back(req.path);
      res.set_header("ETag", "\"" + md5_hex_of(req.body) + "\"");
    } else if (req.method == "DELETE" && req.has_param("uploadId")) {
      aborted_.insert(req.get_param_value("uploadId"));
      res.status = 204;
    } else {
      res.status = 400;
    }
  }

  mutable std::mutex mu_;
  std::set<std::string> created_, aborted_;
  std::vector<std::string> puts_;
  std::atomic<int> parts_{0};
  TestHttpServer server_;  // last: stopped first, while the handlers' state is alive
};

// Ctrl-C while the parts of a data file are backing off: the run stops at once and aborts the upload.
TEST(SignalInUploadBackOff, CtrlCAbortsEveryUploadAndWritesNoSummary) {
  ASSERT_TRUE(simulator_built()) << simulator_path();
  Simulator sim({"--items", "30000", "--item-bytes", "750"});  // ~22 MB of jsonl: parts of 8 MiB
  ASSERT_FALSE(sim.dynamodb().empty());
  ThrottlingS3 s3;
  TempDir home;
  ChildProcess child(
      ddb2s3_argv({"scan", "bench", "s3://fake-bucket/exports", "--source-endpoint-url", sim.dynamodb(),
                   "--dest-endpoint-url", s3.url(), "--compression", "none", "--quiet"}),
      child_env(home));
  // Parts are sent by 4 uploader threads; 8 attempts in all put at least one in a back-off of seconds.
  ASSERT_TRUE(eventually([&] { return s3.part_attempts() >= 8; })) << "no part retried within 60 s";

  Stopped s = signal_and_wait(child, SIGINT);
  EXPECT_EQ(s.outcome.exit_code, 1) << s.outcome.err;
  EXPECT_LT(s.seconds, kPromptStopSeconds) << s.outcome.err;
  EXPECT_NE(s.outcome.err.find("interrupted"), std::string::npos) << s.outcome.err;
  EXPECT_FALSE(s3.created().empty());
  EXPECT_EQ(s3.aborted(), s3.created());
  for (const std::string& key : s3.put_keys()) EXPECT_EQ(key.find("manifest"), std::string::npos) << key;
}

// A local destination on a full file system: the data file being written is not published, no manifest
// is written, and the message names the file, the OS error and what to do.
TEST(LocalDestinationFaults, AFullDiskFailsWithThePathAndPublishesNothing) {
  ASSERT_TRUE(simulator_built()) << simulator_path();
  Simulator sim({"--items", "3000", "--item-bytes", "750"});  // ~2.2 MB of jsonl
  ASSERT_FALSE(sim.dynamodb().empty());
  ScratchMount disk(256 << 10, /*read_only=*/false);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  TempDir home;
  const std::string dest = disk.path() + "/copy";
  ProcessOutcome r = run_process(ddb2s3_argv({"scan", "bench", dest, "--source-endpoint-url", sim.dynamodb(),
                                              "--compression", "none", "--run-id", "r1", "--quiet"}),
                                 child_env(home));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("'" + dest + "/r1/data/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::strerror(ENOSPC)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is full"), std::string::npos) << r.err;     // what to do
  EXPECT_EQ(files_under(disk.path()), std::vector<std::string>{});  // no NAME.partial, no NAME, no manifest
}

// The data fits (one 4 KiB page) but manifest-files.json does not: no manifest, no summary, exit 1 (without
// checkpoints, which would not fit either).
TEST(LocalDestinationFaults, ManifestsThatDoNotFitFailTheRun) {
  ASSERT_TRUE(simulator_built()) << simulator_path();
  Simulator sim({"--items", "2", "--item-bytes", "300"});
  ASSERT_FALSE(sim.dynamodb().empty());
  ScratchMount disk(4096, /*read_only=*/false);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  TempDir home;
  ProcessOutcome r = run_process(ddb2s3_argv({"scan", "bench", disk.path(), "--source-endpoint-url",
                                              sim.dynamodb(), "--run-id", "r1", "--no-checkpoints", "--quiet"}),
                                 child_env(home));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("'" + disk.path() + "/r1/manifest-files.json'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::strerror(ENOSPC)), std::string::npos) << r.err;
  EXPECT_EQ(files_under(disk.path()), std::vector<std::string>{"r1/data/0000-00000.json.gz"});
}

TEST(LocalDestinationFaults, AReadOnlyDirectoryFailsBeforeAnyDataMoves) {
  ASSERT_TRUE(simulator_built()) << simulator_path();
  Simulator sim({"--items", "100", "--item-bytes", "300"});
  ASSERT_FALSE(sim.dynamodb().empty());
  ScratchMount disk(64 << 10, /*read_only=*/true);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  TempDir home;
  ProcessOutcome r = run_process(ddb2s3_argv({"scan", "bench", disk.path() + "/copy", "--source-endpoint-url",
                                              sim.dynamodb(), "--run-id", "r1", "--no-checkpoints", "--quiet"}),
                                 child_env(home));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(disk.path() + "/copy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::strerror(EROFS)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("choose a writable destination"), std::string::npos) << r.err;
  httplib::Client stats("127.0.0.1", std::stoi(sim.dynamodb().substr(sim.dynamodb().rfind(':') + 1)));
  auto st = stats.Get("/__stats");
  ASSERT_TRUE(st);
  EXPECT_EQ(json_number(st->body, "scan_requests"), 0u) << st->body;
}

}  // namespace
}  // namespace ddb2s3::testing

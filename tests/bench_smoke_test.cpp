// Smoke run of the benchmark tools (bench/): the simulator serves a tiny synthetic table that ddb2s3,
// the raw fetch loop and the bench/run harness read in full. No timing assertions.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/servers.h"
#include "support/simulator.h"

namespace ddb2s3::testing {
namespace {

struct Output {
  int code = -1;
  std::string text;
};

// Runs a shell command line with fixed fake credentials and no AWS config files; returns stdout.
Output run(const std::string& command) {
  std::string line =
      "env AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true " +
      command;
  Output o;
  FILE* p = popen(line.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

long long json_number(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":\\s*(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

class BenchSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!simulator_built()) GTEST_SKIP() << "built without DDB2S3_BENCH: no " << simulator_path();
  }
  std::string ddb2s3_scan(const Simulator& sim, const std::string& extra) {
    return binary_dir() + "/ddb2s3 scan bench s3://bench/smoke --source-endpoint-url " + sim.dynamodb() +
           " --dest-endpoint-url " + sim.s3() + " --quiet --json " + extra;
  }
};

TEST_F(BenchSmokeTest, Ddb2s3CopiesEverySimulatedItem) {
  Simulator sim({"--items", "3000", "--item-bytes", "600", "--page-bytes", "200000"});
  ASSERT_FALSE(sim.dynamodb().empty()) << "the simulator did not start";
  for (const char* args :
       {"--total-segments 1", "--total-segments 4 --format dynamodb-json --compression none"}) {
    Output o = run(ddb2s3_scan(sim, args));
    ASSERT_EQ(o.code, 0) << args << ": " << o.text;
    EXPECT_EQ(json_number(o.text, "itemCount"), 3000) << args;
    EXPECT_GE(json_number(o.text, "pages"), 9) << "pages of ~200 KB: " << args;
  }
  Output stats = run("curl -s " + sim.dynamodb() + "/__stats");
  EXPECT_EQ(json_number(stats.text, "rejected_uploads"), 0) << stats.text;  // sizes and Content-MD5 held
  EXPECT_GE(json_number(stats.text, "s3_objects"), 5) << stats.text;        // data files and manifests
}

TEST_F(BenchSmokeTest, Ddb2s3CopiesEveryItemDespiteInjectedFaults) {
  Simulator sim({"--items", "2000", "--page-bytes", "100000", "--throttle-rate", "0.1", "--error-rate", "0.1",
                 "--reset-rate", "0.05", "--seed", "7"});
  ASSERT_FALSE(sim.dynamodb().empty());
  Output o = run(ddb2s3_scan(sim, "--total-segments 2"));
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(json_number(o.text, "itemCount"), 2000);
  Output stats = run("curl -s " + sim.dynamodb() + "/__stats");
  EXPECT_GT(json_number(stats.text, "injected_faults"), 0) << stats.text;
}

TEST_F(BenchSmokeTest, RawFetchReadsEverySegment) {
  Simulator sim({"--items", "5000", "--page-bytes", "100000"});
  ASSERT_FALSE(sim.dynamodb().empty());
  Output o = run(binary_dir() + "/bench/ddb2s3-raw-fetch " + sim.dynamodb() + " bench 3");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(json_number(o.text, "items"), 5000) << o.text;
}

// A throwaway CA and a certificate for 127.0.0.1 signed by it, made with the openssl command in dir
// (as bench/run makes them); false if openssl failed.
bool make_certificates(const std::string& dir) {
  std::ofstream(dir + "/server.ext")
      << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
  const std::string d = "'" + dir + "/";
  for (const std::string& command :
       {"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout " + d + "ca.key' -out " + d +
            "ca.pem' -subj /CN=test-CA -addext basicConstraints=critical,CA:TRUE"
            " -addext keyUsage=critical,keyCertSign,cRLSign",
        "openssl req -newkey rsa:2048 -nodes -keyout " + d + "server.key' -out " + d +
            "server.csr' -subj /CN=127.0.0.1",
        "openssl x509 -req -in " + d + "server.csr' -CA " + d + "ca.pem' -CAkey " + d +
            "ca.key' -CAcreateserial -days 2 -extfile " + d + "server.ext' -out " + d + "server.pem'"}) {
    if (run(command + " >/dev/null 2>&1").code != 0) return false;
  }
  return true;
}

// Over HTTPS (the simulator's --tls-cert/--tls-key): ddb2s3 copies everything, trusting the CA through
// AWS_CA_BUNDLE with verification on (and fails without it), keeps its connections alive (a TLS handshake
// per connection, not per request), and the raw fetch loop reads every item with --cainfo.
TEST_F(BenchSmokeTest, Ddb2s3CopiesOverHttpsWithOneHandshakePerConnection) {
  std::string dir = ::testing::TempDir() + "bench_smoke_tls_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ASSERT_TRUE(make_certificates(dir)) << "openssl could not make the test certificates in " << dir;
  Simulator sim({"--items", "5000", "--page-bytes", "100000", "--tls-cert", dir + "/server.pem", "--tls-key",
                 dir + "/server.key"});
  ASSERT_EQ(sim.dynamodb().rfind("https://127.0.0.1:", 0), 0u)
      << "the simulator did not start: " << sim.dynamodb();
  const std::string ca = dir + "/ca.pem";
  Output o = run("AWS_CA_BUNDLE=" + ca + " " + ddb2s3_scan(sim, "--total-segments 1"));
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(json_number(o.text, "itemCount"), 5000);
  Output stats = run("curl -s --cacert " + ca + " " + sim.dynamodb() + "/__stats");
  const long long scans = json_number(stats.text, "scan_requests");
  const long long handshakes = json_number(stats.text, "tls_handshakes") - 1;  // less curl's own
  EXPECT_GE(scans, 30) << stats.text;
  EXPECT_GE(handshakes, 2) << stats.text;  // DynamoDB and S3
  EXPECT_LE(handshakes, 8) << "connections are not kept alive: " << stats.text;
  EXPECT_EQ(json_number(stats.text, "rejected_uploads"), 0) << stats.text;

  Output untrusted = run(ddb2s3_scan(sim, "--total-segments 1") + " 2>&1");
  EXPECT_NE(untrusted.code, 0) << "TLS verification must stay on: " << untrusted.text;

  Output raw =
      run(binary_dir() + "/bench/ddb2s3-raw-fetch --cainfo " + ca + " " + sim.dynamodb() + " bench 2");
  ASSERT_EQ(raw.code, 0) << raw.text;
  EXPECT_EQ(json_number(raw.text, "items"), 5000) << raw.text;
  run("rm -rf '" + dir + "'");
}

TEST_F(BenchSmokeTest, HarnessSmokeModeRunsEveryClient) {
  ASSERT_TRUE(access("/usr/bin/python3", X_OK) == 0 && run("/usr/bin/python3 -c 'import boto3'").code == 0)
      << "/usr/bin/python3 with boto3 is needed for the Airflow baseline (Debian: python3-boto3); run "
         "scripts/install-deps";
  std::string report = ::testing::TempDir() + "bench_smoke_report.md";
  Output o = run("/usr/bin/python3 " + source_dir() + "/bench/run --smoke --no-build --build-dir " +
                 binary_dir() + " --out " + report + " 2>&1");
  ASSERT_EQ(o.code, 0) << o.text;
  std::ifstream in(report);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("| Airflow algorithm, 1 process(es) | 2000 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| raw fetch, 8 segment(s) | 3000 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| ddb2s3 jsonl+gzip, 1 segment(s), HTTPS | 3000 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| raw fetch, 1 segment(s), HTTPS | 3000 |"), std::string::npos) << text;
  EXPECT_NE(text.find("## Floor (same run, this machine)"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(\| jsonl\+gzip \| [0-9.]+ \| [0-9.]+ \|)"))) << text;
  EXPECT_NE(text.find("## HTTPS: what TLS costs"), std::string::npos) << text;
  EXPECT_EQ(text.find("## Failures"), std::string::npos) << text;
}

// Ctrl-C in the middle of a copy: the run stops as a failure (exit 1), every multipart upload it had
// started is aborted, and no summary is printed.
TEST_F(BenchSmokeTest, InterruptAbortsUploadsAndFails) {
  if (!simulator_built()) GTEST_SKIP() << "built without DDB2S3_BENCH: no " << simulator_path();
  Simulator sim({"--items", "2000000", "--item-bytes", "750", "--latency-ms", "2"});
  ASSERT_FALSE(sim.dynamodb().empty());
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"},      {"HOME", ::testing::TempDir()}, {"AWS_ACCESS_KEY_ID", "x"},
      {"AWS_SECRET_ACCESS_KEY", "y"}, {"AWS_REGION", "us-east-1"},    {"AWS_EC2_METADATA_DISABLED", "true"}};
  ChildProcess child(ddb2s3_argv({"scan", "bench", "s3://bench/interrupted", "--source-endpoint-url",
                                  sim.dynamodb(), "--dest-endpoint-url", sim.s3(), "--compression", "none",
                                  "--total-segments", "4", "--json"}),
                     env);
  // Wait (bounded) until the copy is under way: a multipart upload has been started.
  std::string port = sim.dynamodb().substr(sim.dynamodb().rfind(':') + 1);
  httplib::Client stats("127.0.0.1", std::stoi(port));
  bool started = false;
  for (int i = 0; i < 3000 && !started; ++i) {
    auto r = stats.Get("/__stats");
    started = r && json_number(r->body, "uploads_started") >= 1;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
  ASSERT_TRUE(started) << "no multipart upload started within 30 s";
  ASSERT_EQ(kill(child.pid(), SIGINT), 0);
  ProcessOutcome out = child.wait();
  EXPECT_EQ(out.exit_code, 1) << out.err;
  EXPECT_NE(out.err.find("interrupted"), std::string::npos) << out.err;
  EXPECT_EQ(out.out, "");  // no --json summary: the run did not complete
  auto r = stats.Get("/__stats");
  ASSERT_TRUE(r);
  EXPECT_GE(json_number(r->body, "uploads_aborted"), 1) << r->body;
  EXPECT_EQ(json_number(r->body, "uploads_open"), 0) << r->body;
  EXPECT_LT(json_number(r->body, "scan_items"), 2000000) << r->body;  // it really stopped early
}

}  // namespace
}  // namespace ddb2s3::testing

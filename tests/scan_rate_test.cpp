// Read-capacity control end to end: the built ddb2s3 binary copies a simulated table while the simulator
// counts the read capacity it serves per wall-clock second (GET /__capacity). With --max-rcu, every
// 10-second window after the first stays within 10% of the target and the run averages at least 90% of it
// (8 segments in one process; 2 processes sharing one scan); a simulator limit below the target is met with
// throttles that slow the run down, which still copies every item; --read-capacity-percent takes the right
// base of provisioned and on-demand tables, and an on-demand table without one is a usage error.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "support/files.h"
#include "support/process.h"
#include "support/scan_fixtures.h"
#include "support/servers.h"
#include "support/simulator.h"

namespace ddb2s3::testing {
namespace {

const std::map<std::string, std::string>& env() {
  static const std::map<std::string, std::string> e = {{"PATH", "/usr/bin:/bin"},
                                                       {"HOME", ::testing::TempDir()},
                                                       {"AWS_ACCESS_KEY_ID", "x"},
                                                       {"AWS_SECRET_ACCESS_KEY", "y"},
                                                       {"AWS_REGION", "us-east-1"},
                                                       {"AWS_CONFIG_FILE", "/dev/null"},
                                                       {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                                                       {"AWS_EC2_METADATA_DISABLED", "true"}};
  return e;
}

std::vector<std::string> scan_args(const Simulator& sim, const std::string& dest,
                                   std::vector<std::string> extra) {
  std::vector<std::string> a = {
      "scan",   "bench",   dest,    "--source-endpoint-url", sim.dynamodb(), "--dest-endpoint-url",
      sim.s3(), "--quiet", "--json"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string get(const Simulator& sim, const std::string& path) {
  std::string port = sim.dynamodb().substr(sim.dynamodb().rfind(':') + 1);
  httplib::Client client("127.0.0.1", std::stoi(port));
  auto r = client.Get(path.c_str());
  return r && r->status == 200 ? r->body : std::string();
}

Json parsed(const std::string& text) {
  auto j = parse_json(text);
  EXPECT_TRUE(j) << text;
  return j ? *j : Json{};
}

double number(const Json& j, std::string_view name) {
  const Json* m = j.find(name);
  return m != nullptr && m->is(Json::Kind::kNumber) ? std::stod(m->text) : -1;
}

// What the simulator served, per second since its start.
struct Capacity {
  double start_unix = 0;  // seconds
  std::vector<double> rcu, throttled;
};

Capacity capacity(const Simulator& sim) {
  Json j = parsed(get(sim, "/__capacity"));
  Capacity c;
  c.start_unix = number(j, "start_unix_ms") / 1000;
  for (const char* name : {"rcu", "throttled"}) {
    const Json* a = j.find(name);
    if (a == nullptr) continue;
    for (const Json& v : a->elements) (name[0] == 'r' ? c.rcu : c.throttled).push_back(std::stod(v.text));
  }
  return c;
}

double unix_seconds(const std::string& iso) {
  auto t = parse_iso8601(iso);
  EXPECT_TRUE(t) << iso;
  if (!t) return 0;
  return std::chrono::duration<double>(to_system_clock(t->seconds, t->fraction).time_since_epoch()).count();
}

// The seconds of the series wholly inside [from, to] (unix seconds): the ones when every process was reading.
std::vector<double> seconds_within(const Capacity& c, const std::vector<double>& series, double from,
                                   double to) {
  std::vector<double> out;
  for (size_t i = 0; i < series.size(); ++i) {
    const double begin = c.start_unix + static_cast<double>(i);
    if (begin >= from && begin + 1 <= to) out.push_back(series[i]);
  }
  return out;
}

struct Figures {
  double min_window = 0, max_window = 0, average = 0;
  size_t seconds = 0, windows = 0;
};

// Every 10-second window after the first (sliding by a second), and the average of all the seconds.
Figures figures(const std::vector<double>& per_second, int window = 10) {
  Figures f;
  f.seconds = per_second.size();
  if (per_second.empty()) return f;
  f.average =
      std::accumulate(per_second.begin(), per_second.end(), 0.0) / static_cast<double>(per_second.size());
  f.min_window = 1e300;
  f.max_window = 0;
  for (size_t start = window; start + window <= per_second.size(); ++start) {
    double sum = std::accumulate(per_second.begin() + start, per_second.begin() + start + window, 0.0);
    f.min_window = std::min(f.min_window, sum / window);
    f.max_window = std::max(f.max_window, sum / window);
    ++f.windows;
  }
  return f;
}

void print(const std::string& what, double target, const Figures& f) {
  std::printf(
      "[figures] %s: target %.0f RCU/s over %zu full seconds: 10-s windows after the first (%zu): "
      "min %.1f, max %.1f RCU/s; average %.1f RCU/s (%.1f%%)\n",
      what.c_str(), target, f.seconds, f.windows, f.min_window, f.max_window, f.average,
      100 * f.average / target);
}

void expect_held(const std::string& what, double target, const Figures& f) {
  print(what, target, f);
  EXPECT_GE(f.seconds, 30u) << what << ": the copy must read for at least 30 s";
  EXPECT_GE(f.windows, 1u) << what;
  EXPECT_GE(f.min_window, 0.9 * target) << what;
  EXPECT_LE(f.max_window, 1.1 * target) << what;
  EXPECT_GE(f.average, 0.9 * target) << what;
  EXPECT_LE(f.average, 1.1 * target) << what;
}

class ScanRateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!simulator_built()) GTEST_SKIP() << "built without DDB2S3_BENCH: no " << simulator_path();
  }
};

// ~750-byte items at 0.5 RCU per 4 KB: 144,000 items are ~13,200 RCU, 33 s at 400 RCU/s.
constexpr const char* kLongTable = "144000";
constexpr double kTarget = 400;

TEST_F(ScanRateTest, MaxRcuHoldsFor8SegmentsInOneProcess) {
  Simulator sim({"--items", kLongTable});
  ASSERT_FALSE(sim.dynamodb().empty()) << "the simulator did not start";
  auto out = run_process(
      ddb2s3_argv(scan_args(sim, "s3://bench/rate", {"--total-segments", "8", "--max-rcu", "400"})), env());
  ASSERT_EQ(out.exit_code, 0) << out.err;
  Json summary = parsed(out.out);
  EXPECT_EQ(number(summary, "itemCount"), 144000);
  EXPECT_EQ(number(summary, "throttles"), 0);
  const Json* limit = summary.find("readRateLimit");
  ASSERT_NE(limit, nullptr) << out.out;
  EXPECT_EQ(number(*limit, "rcuPerSecond"), kTarget);

  Capacity c = capacity(sim);
  const double served = std::accumulate(c.rcu.begin(), c.rcu.end(), 0.0);
  EXPECT_NEAR(number(summary, "consumedReadCapacityUnits"), served, 0.01)
      << "what the run counted is what was served";
  std::string start = summary.find("startTime")->text, end = summary.find("endTime")->text;
  expect_held("8 segments, 1 process", kTarget,
              figures(seconds_within(c, c.rcu, unix_seconds(start), unix_seconds(end))));
}

// The simulator's own limit lies above the target: the run never meets it, so nothing is throttled.
TEST_F(ScanRateTest, MaxRcuHoldsForTwoProcessesSharingAScan) {
  Simulator sim({"--items", kLongTable, "--read-capacity", "480"});
  ASSERT_FALSE(sim.dynamodb().empty());
  TempDir dir;
  std::vector<std::unique_ptr<ChildProcess>> children;
  for (const char* segment : {"0", "1"}) {
    children.push_back(std::make_unique<ChildProcess>(
        ddb2s3_argv(scan_args(
            sim, dir.path(),
            {"--segment", segment, "--total-segments", "2", "--run-id", "shared", "--max-rcu", "400"})),
        env()));
  }
  double from = 0, to = 1e300, counted = 0;
  for (auto& child : children) {
    auto out = child->wait();
    ASSERT_EQ(out.exit_code, 0) << out.err;
    Json summary = parsed(out.out);
    EXPECT_EQ(number(summary, "itemCount"), 72000);
    EXPECT_EQ(number(summary, "throttles"), 0);
    const Json* limit = summary.find("readRateLimit");
    ASSERT_NE(limit, nullptr) << out.out;
    EXPECT_EQ(number(*limit, "rcuPerSecond"), kTarget / 2) << "each process takes its half";
    EXPECT_EQ(number(*limit, "scanRcuPerSecond"), kTarget);
    counted += number(summary, "consumedReadCapacityUnits");
    from = std::max(from, unix_seconds(summary.find("startTime")->text));
    to = std::min(to, unix_seconds(summary.find("endTime")->text));
  }
  Capacity c = capacity(sim);
  expect_held("2 processes of a shared scan", kTarget, figures(seconds_within(c, c.rcu, from, to)));
  EXPECT_EQ(std::accumulate(c.throttled.begin(), c.throttled.end(), 0.0), 0);

  // finalize sums what the segments consumed into the run's manifest-summary.json.
  auto fin = run_process(ddb2s3_argv({"finalize", dir.path(), "--run-id", "shared", "--json"}), env());
  ASSERT_EQ(fin.exit_code, 0) << fin.err;
  Json manifest = parsed(read_file(dir.file("shared/manifest-summary.json")));
  EXPECT_NEAR(number(manifest, "consumedReadCapacityUnits"), counted, 0.01);
  EXPECT_NEAR(counted, std::accumulate(c.rcu.begin(), c.rcu.end(), 0.0), 0.01);
  EXPECT_EQ(number(manifest, "itemCount"), 144000);
}

// The table gives less than asked (other traffic, a lower limit): throttles are met and counted, the run
// slows down as a whole and meets them rarely once slowed, its rate settles under the simulator's limit (on
// average: the simulator's bucket is one second deep, so a second can read a little more after slower ones),
// and every item is copied.
TEST_F(ScanRateTest, ALimitBelowTheTargetIsMetWithThrottlesAndTheRunCompletes) {
  constexpr double kLimit = 150;
  Simulator sim({"--items", "30000", "--read-capacity", "150"});  // ~3,000 RCU: ~20 s at ~150 RCU/s
  ASSERT_FALSE(sim.dynamodb().empty());
  auto out = run_process(
      ddb2s3_argv(scan_args(sim, "s3://bench/throttled", {"--total-segments", "8", "--max-rcu", "400"})),
      env());
  ASSERT_EQ(out.exit_code, 0) << out.err;
  Json summary = parsed(out.out);
  EXPECT_EQ(number(summary, "itemCount"), 30000) << "every item, despite the throttles";
  Capacity c = capacity(sim);
  const double throttled = std::accumulate(c.throttled.begin(), c.throttled.end(), 0.0);
  EXPECT_GT(throttled, 0);
  EXPECT_EQ(number(summary, "throttles"), throttled) << "every throttled request is counted";
  const double from = unix_seconds(summary.find("startTime")->text),
               to = unix_seconds(summary.find("endTime")->text);
  auto rcu = seconds_within(c, c.rcu, from, to);
  auto throttles = seconds_within(c, c.throttled, from, to);
  ASSERT_GE(rcu.size(), 12u);
  constexpr size_t kSettle = 5;  // seconds
  auto mean = [](auto begin, auto end) {
    return std::accumulate(begin, end, 0.0) / static_cast<double>(std::distance(begin, end));
  };
  const double early_throttles = std::accumulate(c.throttled.begin(), c.throttled.begin() + kSettle + 1, 0.0);
  const double later_throttles = mean(throttles.begin() + kSettle, throttles.end());
  const double later_rate = mean(rcu.begin() + kSettle, rcu.end());
  std::printf(
      "[figures] simulator limit %.0f RCU/s under a target of 400: %.0f throttles counted, %.0f in the "
      "first seconds, then %.2f per second; %.1f RCU/s on average after the first %zu s "
      "(per second: %.1f to %.1f)\n",
      kLimit, throttled, early_throttles, later_throttles, later_rate, kSettle,
      *std::min_element(rcu.begin() + kSettle, rcu.end()),
      *std::max_element(rcu.begin() + kSettle, rcu.end()));
  // Settles under the limit: over n seconds the simulator's bucket, one second deep, gives at most n + 1
  // seconds' worth (a run that always read more would be throttled every second instead).
  const double n = static_cast<double>(rcu.size() - kSettle);
  EXPECT_LE(later_rate * n, kLimit * (n + 1)) << "settles under the limit";
  EXPECT_GE(later_rate, 0.5 * kLimit) << "and keeps reading";
  EXPECT_LT(later_throttles, early_throttles / kSettle / 3) << "once slowed down, throttles are rare";
}

TEST_F(ScanRateTest, ReadCapacityPercentTakesTheTablesBase) {
  struct Case {
    std::vector<std::string> sim;
    std::vector<std::string> flags;
    std::string base;
    double target;
  };
  const std::vector<Case> cases = {
      {{"--provisioned-rcu", "1000"},
       {"--read-capacity-percent", "50"},
       "ProvisionedThroughput.ReadCapacityUnits",
       500},
      {{"--provisioned-rcu", "1000"},
       {"--read-capacity-percent", "50", "--max-rcu", "300"},
       "ProvisionedThroughput.ReadCapacityUnits",
       300},
      {{"--on-demand-max-rru", "800", "--warm-rcu", "6000"},
       {"--read-capacity-percent", "10"},
       "OnDemandThroughput.MaxReadRequestUnits",
       80},
      {{"--warm-rcu", "6000"}, {"--read-capacity-percent", "10"}, "WarmThroughput.ReadUnitsPerSecond", 600},
  };
  for (const Case& k : cases) {
    std::vector<std::string> args = {"--items", "1000"};
    args.insert(args.end(), k.sim.begin(), k.sim.end());
    Simulator sim(args);
    ASSERT_FALSE(sim.dynamodb().empty());
    auto out = run_process(ddb2s3_argv(scan_args(sim, "s3://bench/percent", k.flags)), env());
    ASSERT_EQ(out.exit_code, 0) << k.base << ": " << out.err;
    Json summary = parsed(out.out);
    EXPECT_EQ(number(summary, "itemCount"), 1000);
    const Json* limit = summary.find("readRateLimit");
    ASSERT_NE(limit, nullptr) << out.out;
    EXPECT_EQ(number(*limit, "rcuPerSecond"), k.target) << k.base;
    ASSERT_NE(limit->find("base"), nullptr) << out.out;
    EXPECT_EQ(limit->find("base")->text, k.base);
  }
}

TEST_F(ScanRateTest, AnOnDemandTableWithoutABaseIsAUsageErrorNamingMaxRcu) {
  Simulator sim(
      {"--items", "1000"});  // PAY_PER_REQUEST, provisioned 0, no OnDemandThroughput or WarmThroughput
  ASSERT_FALSE(sim.dynamodb().empty());
  auto out =
      run_process(ddb2s3_argv(scan_args(sim, "s3://bench/none", {"--read-capacity-percent", "50"})), env());
  EXPECT_EQ(out.exit_code, 2) << out.err;
  EXPECT_NE(out.err.find("on-demand"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("--max-rcu"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("--read-capacity-percent"), std::string::npos) << out.err;
  EXPECT_EQ(number(parsed(get(sim, "/__stats")), "scan_requests"), 0) << "nothing was read";
}

TEST_F(ScanRateTest, WithoutFlagsTheRunCountsWhatItReadAndIsNotPaced) {
  Simulator sim({"--items", "20000"});
  ASSERT_FALSE(sim.dynamodb().empty());
  auto out = run_process(ddb2s3_argv(scan_args(sim, "s3://bench/free", {"--total-segments", "4"})), env());
  ASSERT_EQ(out.exit_code, 0) << out.err;
  Json summary = parsed(out.out);
  EXPECT_EQ(summary.find("readRateLimit"), nullptr);
  EXPECT_EQ(number(summary, "throttles"), 0);
  Capacity c = capacity(sim);
  const double served = std::accumulate(c.rcu.begin(), c.rcu.end(), 0.0);
  EXPECT_GT(served, 1000);  // ~1,830 RCU of 750-byte items
  EXPECT_NEAR(number(summary, "consumedReadCapacityUnits"), served, 0.01);
  EXPECT_LT(number(summary, "seconds"), 10) << "full pages, no waiting";
}

TEST(ScanRateUsage, BadValuesAndReturnConsumedCapacityNoneAreUsageErrors) {
  const std::string closed = "http://127.0.0.1:9";  // never called: usage errors come first
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--max-rcu", "0"}, "--max-rcu must be a number of read capacity units per second above 0"},
      {{"--max-rcu", "lots"}, "--max-rcu must be a number, not 'lots'"},
      {{"--read-capacity-percent", "150"}, "--read-capacity-percent must be above 0 and at most 100"},
      {{"--max-rcu", "100", "--scan-kwargs", R"({"ReturnConsumedCapacity":"NONE"})"},
       "--max-rcu needs the consumed capacity of every page: ReturnConsumedCapacity NONE"},
  };
  for (const Case& k : cases) {
    std::vector<std::string> a = {
        "scan", "t", "s3://some-bucket/p", "--source-endpoint-url", closed, "--dest-endpoint-url", closed};
    a.insert(a.end(), k.flags.begin(), k.flags.end());
    auto out = run_process(ddb2s3_argv(a), env());
    EXPECT_EQ(out.exit_code, 2) << k.says << ": " << out.err;
    EXPECT_NE(out.err.find(k.says), std::string::npos) << out.err;
  }
}

}  // namespace
}  // namespace ddb2s3::testing

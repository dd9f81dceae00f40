// Resume after a crash, and no orphan files: the built ddb2s3 binary copies the simulator's table, is killed
// (kill -9) at many moments chosen from its observable progress (data files finished so far), and is run
// again with --resume (and finalize, for a shared scan). Each time the copy must hold every item exactly
// once, data/ exactly the files of manifest-files.json, and each file the MD5 and line count recorded.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sink/sink.h"
#include "support/aws_fixtures.h"
#include "support/files.h"
#include "support/process.h"
#include "support/scan_fixtures.h"
#include "support/servers.h"
#include "support/simulator.h"

namespace ddb2s3::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kItems = 100000;

std::map<std::string, std::string> child_env() {
  return {{"AWS_ACCESS_KEY_ID", kTestAccessKey},
          {"AWS_SECRET_ACCESS_KEY", kTestSecretKey},
          {"AWS_REGION", kTestRegion},
          {"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"HOME", "/nonexistent"}};
}

// Finished data files under dir/run/data (not the *.partial ones being written).
int finished_files(const std::string& data_dir) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator(data_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (!it->path().string().ends_with(".partial")) ++n;
  return n;
}

std::string json_string(const std::string& json, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + name + "\":\"([^\"]*)\""))) return {};
  return m[1];
}

long long json_count(const std::string& json, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + name + "\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

// Scan requests the simulator has served (its GET /__stats).
long long sim_scans(const Simulator& sim) {
  httplib::Client client(sim.dynamodb());
  auto r = client.Get("/__stats");
  if (!r || r->status != 200) return -1;
  return json_count(r->body, "scan_requests");
}

// A DynamoDB endpoint where nothing listens: any call to it fails.
constexpr const char* kNoDynamoDb = "http://127.0.0.1:1";

class ScanResumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!simulator_built()) return;
    // ~300-byte items in ~128 KB pages: 100,000 items make some 250 pages, each closing a 64 KB data file.
    sim_ = std::make_unique<Simulator>(std::vector<std::string>{
        "--items", std::to_string(kItems), "--item-bytes", "300", "--page-bytes", "131072"});
  }
  static void TearDownTestSuite() { sim_.reset(); }
  void SetUp() override {
    if (!simulator_built()) GTEST_SKIP() << "built without DDB2S3_BENCH: no " << simulator_path();
    ASSERT_FALSE(sim_->dynamodb().empty()) << "the simulator did not start";
  }

  // A copy of the simulator's table to the directory dest, uncompressed (lines countable as they are), in
  // 64 KB files with a checkpoint after each unless extra says otherwise; source: the simulator unless extra
  // names another endpoint.
  std::vector<std::string> scan_args(const std::string& dest, const std::string& run_id,
                                     std::vector<std::string> extra) const {
    auto given = [&](const char* flag) { return std::find(extra.begin(), extra.end(), flag) != extra.end(); };
    std::vector<std::string> a = {"scan",    "bench",         dest,  "--run-id", run_id,
                                  "--quiet", "--compression", "none"};
    if (!given("--file-size")) a.insert(a.end(), {"--file-size", "64k"});
    if (!given("--checkpoint-interval")) a.insert(a.end(), {"--checkpoint-interval", "0"});  // one per file
    if (!given("--source-endpoint-url")) a.insert(a.end(), {"--source-endpoint-url", sim_->dynamodb()});
    a.insert(a.end(), extra.begin(), extra.end());
    return ddb2s3_argv(a);
  }

  // Starts argv, kills it (-9) once `files` data files are finished in data_dir (or it ends first).
  // Returns true when it was killed.
  static bool kill_after(const std::vector<std::vector<std::string>>& argvs, const std::string& data_dir,
                         int files, const std::vector<bool>& victims) {
    std::vector<std::unique_ptr<ChildProcess>> children;
    for (const auto& argv : argvs) children.push_back(std::make_unique<ChildProcess>(argv, child_env()));
    bool killed = false;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      if (finished_files(data_dir) >= files) {
        for (size_t i = 0; i < children.size(); ++i)
          if (victims[i]) killed |= ::kill(children[i]->pid(), SIGKILL) == 0;
        break;
      }
      bool all_gone = true;
      for (const auto& c : children) all_gone &= ::kill(c->pid(), 0) != 0 || zombie(c->pid());
      if (all_gone) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling the directory, not a wait for it
    }
    for (auto& c : children) c->wait();
    return killed;
  }

  static bool zombie(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t p = stat.rfind(')');
    return p != std::string::npos && p + 2 < stat.size() && stat[p + 2] == 'Z';
  }

  // The run in dir/run is complete and exact: every item once, data/ = the manifest's files, each with
  // its MD5 and line count. Returns the items' keys.
  static void expect_exact_copy(const std::string& dir, const std::string& run_id, const std::string& what) {
    const std::string run_dir = dir + "/" + run_id;
    const std::string summary = read_file(run_dir + "/manifest-summary.json");
    ASSERT_FALSE(summary.empty()) << what << ": no manifest-summary.json";
    EXPECT_EQ(json_count(summary, "itemCount"), kItems) << what;
    EXPECT_EQ(json_count(summary, "scannedCount"), kItems) << what << ": scanned as the checkpoints say";
    auto manifest = split_lines(read_file(run_dir + "/manifest-files.json"));
    ASSERT_TRUE(manifest) << what;
    std::set<std::string> listed;
    std::vector<std::string> keys;
    keys.reserve(kItems);
    long long items = 0;
    for (const std::string& line : *manifest) {
      const std::string key = json_string(line, "dataFileS3Key");
      listed.insert(key);
      const std::string bytes = read_file(dir + "/" + key);
      EXPECT_EQ(md5_base64_of(bytes), json_string(line, "md5Checksum")) << what << ": " << key;
      auto lines = split_lines(bytes);
      ASSERT_TRUE(lines) << what << ": " << key;
      EXPECT_EQ(static_cast<long long>(lines->size()), json_count(line, "itemCount")) << what << ": " << key;
      for (const std::string& l : *lines) {
        size_t start = l.find("\"pk\":\"");
        size_t end = start == std::string::npos ? start : l.find('"', start + 6);
        keys.push_back(end == std::string::npos ? "<no pk>" : l.substr(start + 6, end - start - 6));
      }
      items += json_count(line, "itemCount");
    }
    EXPECT_EQ(items, kItems) << what;
    std::set<std::string> present;
    for (const auto& e : fs::directory_iterator(run_dir + "/data"))
      present.insert(run_id + "/data/" + e.path().filename().string());
    EXPECT_EQ(present, listed) << what << ": data/ must hold exactly the files of manifest-files.json";
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << what << ": an item twice";
    EXPECT_EQ(keys.size(), static_cast<size_t>(kItems)) << what;
    std::set<std::string> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique, table_keys()) << what << ": not the table's items";
    // And as a user checks it: verify --deep (every file's MD5 and lines, no orphan, counts) passes.
    ProcessOutcome verified =
        run_process(ddb2s3_argv({"verify", dir, "--run-id", run_id, "--deep"}), child_env());
    EXPECT_EQ(verified.exit_code, 0) << what << ": verify --deep\n" << verified.out << verified.err;
  }

  // The table's keys, from one uninterrupted copy (measured once; also gives its file count and time).
  static const std::set<std::string>& table_keys() { return reference().keys; }
  struct Reference {
    std::set<std::string> keys;
    int files = 0;
    double seconds = 0;
  };
  static const Reference& reference() {
    static const Reference ref = [] {
      Reference r;
      TempDir dir;
      auto start = Clock::now();
      auto out = run_process(ddb2s3_argv({"scan", "bench", dir.path(), "--source-endpoint-url",
                                          sim_->dynamodb(), "--run-id", "ref", "--quiet", "--compression",
                                          "none", "--file-size", "64k", "--total-segments", "8"}),
                             child_env());
      r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      EXPECT_EQ(out.exit_code, 0) << out.err;
      r.files = finished_files(dir.path() + "/ref/data");
      for (const auto& e : fs::directory_iterator(dir.path() + "/ref/data")) {
        auto lines = split_lines(read_file(e.path().string()));
        if (!lines) continue;
        for (const std::string& l : *lines) {
          size_t start_pk = l.find("\"pk\":\"") + 6;
          r.keys.insert(l.substr(start_pk, l.find('"', start_pk) - start_pk));
        }
      }
      return r;
    }();
    return ref;
  }

  static std::unique_ptr<Simulator> sim_;
};

std::unique_ptr<Simulator> ScanResumeTest::sim_;

TEST_F(ScanResumeTest, ReferenceCopyHoldsEveryItemOnce) {
  EXPECT_EQ(table_keys().size(), static_cast<size_t>(kItems));
  EXPECT_GE(reference().files, 100) << "a small --file-size makes many checkpoints";
}

// kill -9 of an in-process scan of 8 segments at 20 moments spread over the copy, each followed by --resume
// (a second kill during some of the resumes, too): the result is always the exact table.
TEST_F(ScanResumeTest, KilledEightSegmentScanResumesToAnExactCopy) {
  const int total = reference().files;
  ASSERT_GT(total, 20);
  int killed = 0;
  for (int moment = 0; moment < 20; ++moment) {
    TempDir dir;
    const std::string run = "kill" + std::to_string(moment);
    const std::string data = dir.path() + "/" + run + "/data";
    // After 1 data file ... 90% of them (the last files of 8 segments end too close together to be caught).
    const int at = 1 + (total * 9 / 10 - 1) * moment / 19;
    auto argv = scan_args(dir.path(), run, {"--total-segments", "8"});
    const bool was_killed = kill_after({argv}, data, at, {true});
    ASSERT_TRUE(was_killed) << "moment " << moment << ": the copy ended before " << at << " files";
    ++killed;
    if (moment % 5 == 4) {  // killed again while resuming
      auto again = scan_args(dir.path(), run, {"--total-segments", "8", "--resume"});
      kill_after({again}, data, std::min(total * 9 / 10, at + total / 10), {true});
    }
    // A retried process's leftovers: a data file past anything a checkpoint lists, and a half-written one.
    if (!fs::exists(dir.path() + "/" + run +
                    "/manifest-summary.json")) {  // (a second kill can come too late)
      write_file(data + "/0003-09999.json", "{\"pk\":\"stray\"}\n");
      write_file(data + "/0005-09998.json.partial", "{\"pk\":\"half");
    }
    auto out = run_process(scan_args(dir.path(), run, {"--total-segments", "8", "--resume"}), child_env());
    ASSERT_EQ(out.exit_code, 0) << "moment " << moment << ": " << out.err;
    expect_exact_copy(dir.path(), run, "in-process, killed after " + std::to_string(at) + " files");
  }
  EXPECT_EQ(killed, 20);
}

// A shared scan of 3 processes (--segment I); at each of 20 moments one or all of them are killed, then
// every segment is run again with --resume (a finished one exits at once) and the run finalized.
TEST_F(ScanResumeTest, KilledSharedScanResumesAndFinalizesToAnExactCopy) {
  const int total = reference().files;
  int killed = 0;
  for (int moment = 0; moment < 20; ++moment) {
    TempDir dir;
    const std::string run = "shared" + std::to_string(moment);
    const std::string data = dir.path() + "/" + run + "/data";
    std::vector<std::vector<std::string>> argvs;
    for (int i = 0; i < 3; ++i)
      argvs.push_back(scan_args(dir.path(), run, {"--total-segments", "3", "--segment", std::to_string(i)}));
    std::vector<bool> victims = {moment % 3 == 0, moment % 3 == 1, moment % 3 == 2};
    if (moment % 4 == 3) victims = {true, true, true};
    const int at = 1 + (total * 85 / 100 - 1) * moment / 19;  // 3 segments: fewer part-filled files than 8
    const bool was_killed = kill_after(argvs, data, at, victims);
    killed += was_killed ? 1 : 0;
    if (was_killed) {
      write_file(data + "/0001-09999.json", "{\"pk\":\"stray\"}\n");  // a segment's own leftover
      write_file(data + "/0042-00000.json", "{\"pk\":\"stray\"}\n");  // no segment's: finalize removes it
    }
    for (int i = 0; i < 3; ++i) {
      auto argv = argvs[i];
      argv.push_back("--resume");
      auto out = run_process(argv, child_env());
      ASSERT_EQ(out.exit_code, 0) << "moment " << moment << " segment " << i << ": " << out.err;
    }
    if (victims[1]) {
      EXPECT_FALSE(fs::exists(data + "/0001-09999.json")) << "segment 1 removes its own leftovers";
    }
    auto fin = run_process(ddb2s3_argv({"finalize", dir.path(), "--run-id", run, "--quiet"}), child_env());
    ASSERT_EQ(fin.exit_code, 0) << fin.err;
    expect_exact_copy(dir.path(), run, "shared, killed after " + std::to_string(at) + " files");
  }
  EXPECT_GE(killed, 18);
}

TEST_F(ScanResumeTest, ResumeWithOtherOptionsIsAUsageErrorNamingTheFlag) {
  TempDir dir;
  const std::string data = dir.path() + "/r/data";
  ASSERT_TRUE(kill_after({scan_args(dir.path(), "r", {"--total-segments", "8"})}, data, 5, {true}));
  const long long before = sim_scans(*sim_);
  auto size = run_process(
      scan_args(dir.path(), "r", {"--total-segments", "8", "--resume", "--file-size", "1MiB"}), child_env());
  EXPECT_EQ(size.exit_code, 2) << size.err;
  EXPECT_NE(size.err.find("--file-size"), std::string::npos) << size.err;
  auto segments = run_process(scan_args(dir.path(), "r", {"--total-segments", "4", "--resume"}), child_env());
  EXPECT_EQ(segments.exit_code, 2) << segments.err;
  EXPECT_NE(segments.err.find("--total-segments"), std::string::npos) << segments.err;
  auto filter = run_process(
      scan_args(dir.path(), "r", {"--total-segments", "8", "--resume", "--filter", "attribute_exists(pk)"}),
      child_env());
  EXPECT_EQ(filter.exit_code, 2) << filter.err;
  EXPECT_NE(filter.err.find("FilterExpression"), std::string::npos) << filter.err;
  EXPECT_EQ(sim_scans(*sim_), before) << "no Scan before the usage error";
  EXPECT_GT(before, 0);
  // Nor any other DynamoDB call: the options are checked against the checkpoints first.
  auto no_ddb = run_process(scan_args(dir.path(), "r",
                                      {"--total-segments", "8", "--resume", "--file-size", "1MiB",
                                       "--source-endpoint-url", kNoDynamoDb}),
                            child_env());
  EXPECT_EQ(no_ddb.exit_code, 2) << no_ddb.err;
  // With the same options it goes on.
  auto ok = run_process(scan_args(dir.path(), "r", {"--total-segments", "8", "--resume"}), child_env());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  expect_exact_copy(dir.path(), "r", "resumed with the same options");
}

// Fewer segments on resume, when only segments that no longer run here have checkpoints (segments 0-3 had
// finished no file yet): the options are still compared, with the others' checkpoints.
TEST_F(ScanResumeTest, ResumeWithFewerSegmentsIsRefusedWhenOnlyTheOthersHaveCheckpoints) {
  TempDir dir;
  const std::string data = dir.path() + "/r/data";
  ASSERT_TRUE(
      kill_after({scan_args(dir.path(), "r", {"--total-segments", "8", "--checkpoint-interval", "0"})}, data,
                 16, {true}));
  int others = 0;
  for (int s = 0; s < 8; ++s) {
    const std::string checkpoint = dir.path() + "/r/checkpoints/segment-" + std::to_string(s) + ".json";
    if (s < 4)
      std::filesystem::remove(checkpoint);
    else
      others += std::filesystem::exists(checkpoint) ? 1 : 0;
  }
  ASSERT_GT(others, 0) << "a checkpoint of segments 4-7 after 16 files";
  const long long before = sim_scans(*sim_);
  auto fewer = run_process(
      scan_args(dir.path(), "r", {"--total-segments", "4", "--checkpoint-interval", "0", "--resume"}),
      child_env());
  EXPECT_EQ(fewer.exit_code, 2) << fewer.err;
  EXPECT_NE(fewer.err.find("--total-segments"), std::string::npos) << fewer.err;
  EXPECT_EQ(sim_scans(*sim_), before) << "no Scan before the usage error";
}

TEST_F(ScanResumeTest, ResumeOfAFinishedRunSaysSoWithoutReadingTheTable) {
  TempDir dir;
  auto first = run_process(scan_args(dir.path(), "done", {"--total-segments", "2", "--file-size", "1MiB"}),
                           child_env());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const long long before = sim_scans(*sim_);
  // DynamoDB out of reach: a call to it (DescribeTable) would fail the run.
  auto again = scan_args(
      dir.path(), "done",
      {"--total-segments", "2", "--file-size", "1MiB", "--resume", "--source-endpoint-url", kNoDynamoDb});
  std::erase(again, std::string("--quiet"));
  auto out = run_process(again, child_env());
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.err.find("already complete"), std::string::npos) << out.err;
  EXPECT_EQ(sim_scans(*sim_), before) << "no DescribeTable, no Scan";
  // One segment of a shared scan, likewise.
  auto seg =
      run_process(scan_args(dir.path(), "seg", {"--total-segments", "2", "--segment", "1"}), child_env());
  ASSERT_EQ(seg.exit_code, 0) << seg.err;
  const long long before_segment = sim_scans(*sim_);
  auto seg_again = run_process(scan_args(dir.path(), "seg",
                                         {"--total-segments", "2", "--segment", "1", "--resume", "--json",
                                          "--source-endpoint-url", kNoDynamoDb}),
                               child_env());
  EXPECT_EQ(seg_again.exit_code, 0) << seg_again.err;
  EXPECT_NE(seg_again.out.find("\"alreadyComplete\":true"), std::string::npos) << seg_again.out;
  EXPECT_EQ(sim_scans(*sim_), before_segment);
  // Without --resume a finished run id is still refused.
  auto refused = run_process(scan_args(dir.path(), "done", {"--total-segments", "2", "--file-size", "1MiB"}),
                             child_env());
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("already complete"), std::string::npos) << refused.err;
}

TEST_F(ScanResumeTest, ResumeNeedsARunIdAndStartsARunWithoutCheckpoints) {
  TempDir dir;
  auto no_id = run_process(ddb2s3_argv({"scan", "bench", dir.path(), "--resume"}), child_env());
  EXPECT_EQ(no_id.exit_code, 2) << no_id.err;
  EXPECT_NE(no_id.err.find("--run-id"), std::string::npos) << no_id.err;
  auto fresh =
      run_process(scan_args(dir.path(), "fresh", {"--total-segments", "4", "--resume"}), child_env());
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  expect_exact_copy(dir.path(), "fresh", "a resume of a run that never started");
}

// A checkpoint cut short (a store that is not atomic, killed mid-write) restarts its segment, exactly; one
// that parses but is not a checkpoint stops the resume naming it.
TEST_F(ScanResumeTest, ACutCheckpointRestartsItsSegmentAndAForeignOneIsNamed) {
  TempDir dir;
  const std::string data = dir.path() + "/cut/data";
  ASSERT_TRUE(kill_after({scan_args(dir.path(), "cut", {"--total-segments", "8"})}, data, 20, {true}));
  const std::string checkpoint = dir.path() + "/cut/checkpoints/segment-2.json";
  const std::string text = read_file(checkpoint);
  ASSERT_FALSE(text.empty());
  write_file(checkpoint, text.substr(0, text.size() / 2));
  auto out = run_process(scan_args(dir.path(), "cut", {"--total-segments", "8", "--resume"}), child_env());
  ASSERT_EQ(out.exit_code, 0) << out.err;
  expect_exact_copy(dir.path(), "cut", "a cut checkpoint");

  ASSERT_TRUE(kill_after({scan_args(dir.path(), "foreign", {"--total-segments", "8"})},
                         dir.path() + "/foreign/data", 20, {true}));
  write_file(dir.path() + "/foreign/checkpoints/segment-3.json", "{\"version\":\"other\"}\n");
  auto foreign =
      run_process(scan_args(dir.path(), "foreign", {"--total-segments", "8", "--resume"}), child_env());
  EXPECT_EQ(foreign.exit_code, 1) << foreign.err;
  EXPECT_NE(foreign.err.find("InvalidCheckpoint"), std::string::npos) << foreign.err;
  EXPECT_NE(foreign.err.find("segment-3.json"), std::string::npos) << foreign.err;
}

// Leftovers of an earlier attempt in a fresh run's folder (a retried process) are removed before the
// manifests; --no-checkpoints writes none.
TEST_F(ScanResumeTest, OrphansOfARetriedProcessAreRemoved) {
  TempDir dir;
  write_file(dir.path() + "/again/data/0000-00777.json", "{\"pk\":\"stray\"}\n");
  write_file(dir.path() + "/again/data/0001-00001.json.partial", "{\"pk\":\"stray\"}\n");
  auto out =
      run_process(scan_args(dir.path(), "again", {"--total-segments", "2", "--no-checkpoints"}), child_env());
  ASSERT_EQ(out.exit_code, 0) << out.err;
  expect_exact_copy(dir.path(), "again", "a retried run");
  EXPECT_FALSE(fs::exists(dir.path() + "/again/checkpoints"));
}

// Against S3 (s3rver): killed after its first checkpoints, resumed; the objects under data/ are exactly the
// manifest's, and the copy holds every item.
TEST_F(ScanResumeTest, KilledScanToS3Resumes) {
  LocalAws aws;
  const std::string bucket = aws.make_bucket("resume");
  const std::string dest = "s3://" + bucket + "/p";
  std::vector<std::string> argv = ddb2s3_argv(
      {"scan", "bench", dest, "--source-endpoint-url", sim_->dynamodb(), "--dest-endpoint-url",
       aws.s3_endpoint(), "--run-id", "s3run", "--quiet", "--file-size", "256k", "--total-segments", "4"});
  auto env = aws.env_vars();
  {
    ChildProcess child(argv, env);
    const std::string checkpoints = local_servers().s3_dir + "/" + bucket + "/p/s3run/checkpoints";
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      std::error_code ec;
      int n = 0;
      for (auto it = fs::directory_iterator(checkpoints, ec); !ec && it != fs::directory_iterator();
           it.increment(ec))
        ++n;
      if (n >= 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(child.pid(), SIGKILL);
    child.wait();
  }
  // A retried process's leftover object past every checkpoint: removed before the manifests.
  auto d = Destination::parse(dest);
  ASSERT_TRUE(d);
  auto sink = make_s3_sink(test_service_config("s3", aws.s3_endpoint()), *d);
  ASSERT_TRUE(sink) << sink.error().to_string();
  ASSERT_TRUE((*sink)->put(d->key("s3run/data/0003-09999.json.gz"), "stray", "").ok());
  argv.push_back("--resume");
  argv.push_back("--json");
  auto out = run_process(argv, env);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(json_count(out.out, "itemCount"), kItems) << out.out;
  auto lines = read_run_lines(aws, *d, "s3run", Compression::kGzip);
  ASSERT_TRUE(lines) << lines.error().message;
  std::set<std::string> keys;
  for (const std::string& l : *lines) {
    size_t start = l.find("\"pk\":\"") + 6;
    keys.insert(l.substr(start, l.find('"', start) - start));
  }
  EXPECT_EQ(lines->size(), static_cast<size_t>(kItems)) << "no item twice";
  EXPECT_EQ(keys, table_keys());
  auto data = aws.read_all(*d, "s3run/data/");
  ASSERT_TRUE(data);
  auto manifest = aws.read(*d, "s3run/manifest-files.json");
  ASSERT_TRUE(manifest && manifest->has_value());
  auto listed = split_lines(**manifest);
  ASSERT_TRUE(listed);
  std::set<std::string> in_manifest, in_data;
  for (const auto& l : *listed) in_manifest.insert(json_string(l, "dataFileS3Key"));
  for (const auto& o : *data) in_data.insert(o.key);
  EXPECT_EQ(in_data, in_manifest);
}

}  // namespace
}  // namespace ddb2s3::testing

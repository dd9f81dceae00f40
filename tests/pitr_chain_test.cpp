// The incremental chain end to end: dynalite holds the table, the export test server writes the full and
// incremental exports computed from dynalite's recorded snapshots into s3rver (which the test launcher gives
// S3's conditional writes), run_chain() advances the chain and merges, and the chain's snapshot must equal a
// fresh scan of the table exactly. Times are in the past (the export server takes them as they come), and
// the chain's clock is set to them, so nothing waits.
#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <thread>

#include "aws/session.h"
#include "pitr/chain.h"
#include "s3/s3.h"
#include "scan/scan.h"
#include "support/pitr_fixtures.h"
#include "support/process.h"

namespace ddb2s3 {
namespace {

using testing::ExportServer;
using testing::now_seconds;

constexpr double kHour = 3600, kDay = 24 * kHour;
constexpr const char* kBig = "12345678901234567890123456789012345678";      // 38 digits
constexpr const char* kBig2 = "-0.00000000000000000000000000000000000001";  // 38 significant digits
constexpr const char* kBig3 = "98765432109876543210987654321098765432";

TEST(ChainWindows, GapsSplitIntoConsecutiveWindowsOfAtMostADay) {
  EXPECT_TRUE(chain_windows(1000, 1000 + 14 * 60).empty());  // under 15 minutes: nothing yet
  EXPECT_EQ(chain_windows(1000, 1000 + 15 * 60), (std::vector<std::pair<double, double>>{{1000, 1900}}));
  EXPECT_EQ(chain_windows(0, kDay), (std::vector<std::pair<double, double>>{{0, kDay}}));
  // Just over a day: two equal halves, never a day and a five-minute window (under DynamoDB's minimum).
  const auto two = chain_windows(0, kDay + 300);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].first, 0);
  EXPECT_EQ(two[0].second, two[1].first);
  EXPECT_EQ(two[1].second, kDay + 300);
  const auto three = chain_windows(100, 100 + 3 * kDay - 60);
  ASSERT_EQ(three.size(), 3u);
  for (size_t i = 0; i < three.size(); ++i) {
    EXPECT_LE(three[i].second - three[i].first, kDay);
    EXPECT_GE(three[i].second - three[i].first, 15 * 60);
    if (i > 0) {
      EXPECT_EQ(three[i].first, three[i - 1].second);
    }
  }
  EXPECT_EQ(three.back().second, 100 + 3 * kDay - 60);
  EXPECT_EQ(snapshot_folder("a/b", 1714564800), "a/b/snapshots/20240501T120000Z");
  EXPECT_EQ(snapshot_folder("", 1714564800.9), "snapshots/20240501T120000Z");
}

TEST(ChainState, WrittenStateReadsBackAndABadOneIsRefusedByName) {
  ChainState s;
  s.table = "orders";
  s.table_arn = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
  s.key_attributes = {"pk", "sk"};
  s.export_view_type = "NEW_IMAGE";
  s.base = {"arn:x/export/1", "s3://b/p/AWSDynamoDB/1", 0, 1714564800, 12, "export"};
  s.incrementals.push_back({"arn:x/export/2", "s3://b/p/AWSDynamoDB/2", 1714564800, 1714568400.5, 3, ""});
  s.snapshot = {"s3://b/p/snapshots/x", 1714568400.5, 1, 14};
  s.updated = 1714568500;
  auto back = parse_chain_state(chain_state_json(s), "s3://b/p/ddb2s3-chain.json");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(chain_state_json(*back), chain_state_json(s));
  EXPECT_EQ(back->through(), 1714568400.5);
  EXPECT_EQ(back->incrementals[0].from, 1714564800);

  auto bad = parse_chain_state(R"({"version":1,"table":"t"})", "s3://b/p/ddb2s3-chain.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "BadChainState");
  EXPECT_NE(bad.error().message.find("s3://b/p/ddb2s3-chain.json"), std::string::npos);
}

class PitrChainTest : public testing::PitrFixture {
 protected:
  void SetUp() override { open("chain"); }

  // Options for one run at time `now` (the chain's clock) into s3://bucket_/chain.
  ChainRunOptions options(double now, bool merge = true) {
    ChainRunOptions o;
    o.exports.table = table_;
    o.exports.source.endpoint_url = server_.url();
    o.exports.s3_bucket = bucket_;
    o.exports.s3_prefix = "chain";
    o.exports.env = aws_.env();
    o.exports.wait_options.check_interval_seconds = 0;
    o.exports.clock.now = [now] { return now; };
    o.s3.endpoint_url = aws_.s3_endpoint();
    o.merge = merge;
    o.partitions = 3;
    o.file_size = 200;  // several data files
    return o;
  }

  // The chain's first run: its base, a full export as of t0.
  ChainRunOutcome start(double t0, bool merge = true) {
    ChainRunOptions o = options(t0, merge);
    o.exports.export_time = t0;
    return run(o);
  }

  ChainRunOutcome run(const ChainRunOptions& o) {
    auto r = run_chain(o);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r ? *r : ChainRunOutcome{};
  }

  // The state object as stored, or empty.
  std::string stored_state() {
    auto got = aws_.read(folder("chain"), std::string(kChainStateName));
    EXPECT_TRUE(got.ok());
    return got.ok() && got->has_value() ? **got : std::string();
  }

  std::string snapshot_prefix(const ChainState& s) {
    const std::string head = "s3://" + bucket_ + "/";
    EXPECT_EQ(s.snapshot.location.rfind(head, 0), 0u) << s.snapshot.location;
    return s.snapshot.location.substr(head.size());
  }
};

TEST_F(PitrChainTest, ThreeRoundsAdvanceTheChainAndItsSnapshotIsAFreshScan) {
  const double t0 = std::floor(now_seconds()) - 4 * kHour;
  const double t1 = t0 + kHour, t2 = t1 + kHour, t3 = t2 + kHour;
  put({R"({"id":{"S":"keep"},"s":{"S":"unchanged \"quoted\" é \u2028"}})",
       std::string(R"({"id":{"S":"big"},"n":{"N":")") + kBig + R"("}})",
       std::string(R"({"id":{"S":"sets"},"ss":{"SS":["a","b"]},"ns":{"NS":["1",")") + kBig +
           R"("]},"bs":{"BS":["AAEC","/w=="]}})",
       R"({"id":{"S":"bin"},"b":{"B":"3q2+7w=="},"nul":{"NULL":true},"t":{"BOOL":true}})",
       R"({"id":{"S":"upd"},"n":{"N":"1"}})", R"({"id":{"S":"del"},"n":{"N":"2"}})",
       R"({"id":{"S":"recreate"},"v":{"S":"first life"}})"});
  snapshot(t0);
  const ChainRunOutcome base = start(t0);
  EXPECT_EQ(base.action, ChainAction::kStartedBase);
  EXPECT_EQ(base.state.base.to, t0);
  EXPECT_EQ(base.state.key_attributes, std::vector<std::string>{"id"});
  EXPECT_EQ(items_at(snapshot_prefix(base.state)), scanned());  // the base is the first snapshot

  // Round 1: an update to 38 significant digits, deletes, a new item, an item created and deleted within it.
  put({std::string(R"({"id":{"S":"upd"},"n":{"N":")") + kBig2 + R"("},"added":{"L":[{"S":"x"},{"N":"3"}]}})",
       R"({"id":{"S":"new1"},"m":{"M":{"z":{"S":"last"},"a":{"N":"0.5"}}}})",
       R"({"id":{"S":"ephemeral"},"v":{"S":"gone soon"}})"});
  remove({"del", "recreate", "ephemeral"});
  snapshot(t1);
  const ChainRunOutcome r1 = run(options(t1));
  EXPECT_EQ(r1.action, ChainAction::kAdvanced);
  ASSERT_EQ(r1.state.incrementals.size(), 1u);
  EXPECT_EQ(r1.state.incrementals[0].from, t0);
  EXPECT_EQ(r1.state.incrementals[0].to, t1);
  ASSERT_TRUE(r1.merge.has_value());
  EXPECT_EQ(items_at(snapshot_prefix(r1.state)), scanned());

  // Round 2: the deleted key comes back with other attributes; sets change; a short-lived item.
  put({R"({"id":{"S":"recreate"},"w":{"N":"42"},"ss":{"SS":["second","life"]}})",
       R"({"id":{"S":"new1"},"m":{"M":{"z":{"S":"changed"}}}})",
       std::string(R"({"id":{"S":"sets"},"ss":{"SS":["a","b","c"]},"ns":{"NS":[")") + kBig3 +
           R"("]},"bs":{"BS":["AAEC"]}})",
       R"({"id":{"S":"ephemeral2"},"v":{"S":"x"}})"});
  remove({"ephemeral2"});
  snapshot(t2);
  const ChainRunOutcome r2 = run(options(t2));
  EXPECT_EQ(r2.action, ChainAction::kAdvanced);
  EXPECT_EQ(items_at(snapshot_prefix(r2.state)), scanned());

  // Round 3: a delete, a 38-digit update, an item put then updated within the window.
  put({std::string(R"({"id":{"S":"big"},"n":{"N":")") + kBig3 + R"("}})",
       R"({"id":{"S":"late"},"v":{"N":"1"}})"});
  put({R"({"id":{"S":"late"},"v":{"N":"2"},"nested":{"M":{"l":{"L":[{"M":{"k":{"SS":["q"]}}}]}}}})"});
  remove({"new1"});
  snapshot(t3);
  const ChainRunOutcome r3 = run(options(t3));
  EXPECT_EQ(r3.action, ChainAction::kAdvanced);
  const auto expected = scanned();
  ASSERT_EQ(expected.size(), 7u);
  EXPECT_EQ(items_at(snapshot_prefix(r3.state)), expected);

  // What the chain recorded, read back from S3: three consecutive windows, the snapshot holding all three.
  auto state = parse_chain_state(stored_state(), "state");
  ASSERT_TRUE(state.ok()) << state.error().to_string();
  ASSERT_EQ(state->incrementals.size(), 3u);
  EXPECT_EQ(state->incrementals[1].from, t1);
  EXPECT_EQ(state->incrementals[2].to, t3);
  EXPECT_EQ(state->snapshot.incrementals, 3);
  EXPECT_EQ(state->snapshot.through, t3);
  EXPECT_EQ(state->snapshot.item_count, 7);
  EXPECT_EQ(snapshot_prefix(*state), snapshot_folder("chain", t3));
  EXPECT_EQ(server_.exports_created(), 4);

  // Less than 15 minutes later: nothing to export, and nothing changes.
  const std::string before = stored_state();
  const ChainRunOutcome soon = run(options(t3 + 600));
  EXPECT_EQ(soon.action, ChainAction::kUpToDate);
  EXPECT_EQ(soon.next_window, t3 + 15 * 60);
  EXPECT_EQ(stored_state(), before);
  EXPECT_EQ(server_.exports_created(), 4);
  // A merge of a chain whose snapshot holds every export writes nothing.
  ChainMergeOptions m;
  m.chain = "s3://" + bucket_ + "/chain";
  m.s3.endpoint_url = aws_.s3_endpoint();
  m.env = aws_.env();
  auto merged = merge_chain(m);
  ASSERT_TRUE(merged.ok()) << merged.error().to_string();
  EXPECT_TRUE(merged->up_to_date);
  // The lock is gone after each run.
  auto lock = aws_.read(folder("chain"), std::string(kChainLockName));
  ASSERT_TRUE(lock.ok());
  EXPECT_FALSE(lock->has_value());
}

TEST_F(PitrChainTest, AFailedExportRecordsNothingAndTheNextRunCoversTheSameWindow) {
  const double t0 = std::floor(now_seconds()) - 3 * kHour, t1 = t0 + kHour;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"b"},"n":{"N":"2"}})"});
  snapshot(t0);
  ASSERT_EQ(start(t0).action, ChainAction::kStartedBase);
  put({R"({"id":{"S":"a"},"n":{"N":"10"}})"});
  remove({"b"});
  snapshot(t1);
  const std::string before = stored_state();

  ExportServer::Schedule failing;
  failing.fail = true;
  server_.set_schedule(failing);
  const ChainRunOutcome failed = run(options(t1));
  EXPECT_EQ(failed.action, ChainAction::kFailed);
  ASSERT_EQ(failed.exports.size(), 1u);
  EXPECT_EQ(failed.exports[0].state, ExportState::kFailed);
  EXPECT_EQ(stored_state(), before);  // not a byte changed
  EXPECT_FALSE(aws_.read(folder("chain"), std::string(kChainLockName))->has_value());

  server_.set_schedule(ExportServer::Schedule{});
  const ChainRunOutcome caught_up = run(options(t1 + 60));
  EXPECT_EQ(caught_up.action, ChainAction::kAdvanced);
  ASSERT_EQ(caught_up.state.incrementals.size(), 1u);
  EXPECT_EQ(caught_up.state.incrementals[0].from, t0);  // the failed window, again
  EXPECT_EQ(items_at(snapshot_prefix(caught_up.state)), scanned());
}

TEST_F(PitrChainTest, AGapOfThreeDaysBecomesThreeConsecutiveExportsOfAtMostADay) {
  const double t0 = std::floor(now_seconds()) - 4 * kDay;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"b"},"n":{"N":"2"}})"});
  snapshot(t0);
  ASSERT_EQ(start(t0).action, ChainAction::kStartedBase);
  // Changes on each of the three days (recorded as the table was at each day's end).
  put({R"({"id":{"S":"c"},"n":{"N":"3"}})"});
  snapshot(t0 + kDay - 60);
  remove({"a"});
  snapshot(t0 + 2 * kDay - 60);
  put({std::string(R"({"id":{"S":"b"},"n":{"N":")") + kBig + R"("}})"});
  snapshot(t0 + 3 * kDay - 60);

  const ChainRunOutcome r = run(options(t0 + 3 * kDay - 60));
  EXPECT_EQ(r.action, ChainAction::kAdvanced);
  ASSERT_EQ(r.exports.size(), 3u);
  ASSERT_EQ(r.state.incrementals.size(), 3u);
  double from = t0;
  for (const ChainExport& e : r.state.incrementals) {
    EXPECT_EQ(e.from, from);
    EXPECT_LE(e.to - e.from, kDay);
    from = e.to;
  }
  EXPECT_EQ(from, t0 + 3 * kDay - 60);
  EXPECT_EQ(items_at(snapshot_prefix(r.state)), scanned());
}

TEST_F(PitrChainTest, OfTwoRunsAtOnceOneAdvancesAndTheOtherSaysWhyNot) {
  const double t0 = std::floor(now_seconds()) - 3 * kHour, t1 = t0 + kHour;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})"});
  snapshot(t0);
  ASSERT_EQ(start(t0).action, ChainAction::kStartedBase);
  put({R"({"id":{"S":"b"},"n":{"N":"2"}})"});
  snapshot(t1);

  // Run A stops inside its first poll (it holds the lock and its export is running) until run B is done.
  std::promise<void> a_waiting, b_done;
  std::shared_future<void> b_finished = b_done.get_future().share();
  bool signalled = false;
  ChainRunOptions a = options(t1);
  a.run_id = "run-a";
  a.exports.on_poll = [&](const ExportPoll&) {
    if (signalled) return;
    signalled = true;
    a_waiting.set_value();
    b_finished.wait();
  };
  std::future<Result<ChainRunOutcome>> a_result =
      std::async(std::launch::async, [&] { return run_chain(a); });
  a_waiting.get_future().wait();

  ChainRunOptions b = options(t1);
  b.run_id = "run-b";
  auto b_result = run_chain(b);
  b_done.set_value();
  ASSERT_FALSE(b_result.ok());
  EXPECT_EQ(b_result.error().code, "ChainBusy");
  EXPECT_NE(b_result.error().message.find("run run-a"), std::string::npos) << b_result.error().message;
  EXPECT_NE(b_result.error().hint.find(std::string(kChainLockName)), std::string::npos);

  auto a_outcome = a_result.get();
  ASSERT_TRUE(a_outcome.ok()) << a_outcome.error().to_string();
  EXPECT_EQ(a_outcome->action, ChainAction::kAdvanced);
  EXPECT_EQ(server_.exports_created(), 2);  // the base and A's: B started none
  auto state = parse_chain_state(stored_state(), "state");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->incrementals.size(), 1u);
  EXPECT_EQ(items_at(snapshot_prefix(state.value())), scanned());
}

TEST_F(PitrChainTest, ALockWhoseLeaseRanOutIsTakenOverAndAStateChangedUnderARunIsNotOverwritten) {
  const double t0 = std::floor(now_seconds()) - 3 * kHour, t1 = t0 + kHour;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})"});
  snapshot(t0);
  ASSERT_EQ(start(t0).action, ChainAction::kStartedBase);
  snapshot(t1);

  S3Client& s3 = this->s3();
  const std::string lock_key = "chain/" + std::string(kChainLockName);
  // A run that died an hour ago, its lease over: taken over.
  ASSERT_TRUE(s3.put_object(bucket_, lock_key,
                            R"({"runId":"dead","host":"h","pid":1,"acquired":")" +
                                format_time(now_seconds() - 7200) + R"(","expires":")" +
                                format_time(now_seconds() - 3600) + "\"}")
                  .ok());
  EXPECT_EQ(run(options(t1)).action, ChainAction::kAdvanced);
  // A live one: refused, and the chain is not touched.
  ASSERT_TRUE(s3.put_object(bucket_, lock_key,
                            R"({"runId":"live","host":"h","pid":1,"acquired":")" +
                                format_time(now_seconds()) + R"(","expires":")" +
                                format_time(now_seconds() + 3600) + "\"}")
                  .ok());
  const std::string before = stored_state();
  auto busy = run_chain(options(t1 + kHour));
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, "ChainBusy");
  EXPECT_EQ(stored_state(), before);
  ASSERT_TRUE(s3.delete_object(bucket_, lock_key).ok());

  // Conditional writes as the chain relies on them: a second create, and a write with a stale ETag, fail.
  auto created = s3.put_object(bucket_, "chain/x", "1", ObjectOptions().set("If-None-Match", "*"));
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  auto again = s3.put_object(bucket_, "chain/x", "2", ObjectOptions().set("If-None-Match", "*"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 412);
  ASSERT_TRUE(
      s3.put_object(bucket_, "chain/x", "3", ObjectOptions().set("If-Match", "\"" + *created + "\"")).ok());
  auto stale =
      s3.put_object(bucket_, "chain/x", "4", ObjectOptions().set("If-Match", "\"" + *created + "\""));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "PreconditionFailed");
}

TEST_F(PitrChainTest, AScanRunInDynamoDbJsonIsAdoptedAsTheBase) {
  const double t0 = std::floor(now_seconds()) - 3 * kHour, t1 = t0 + kHour;
  put({std::string(R"({"id":{"S":"big"},"n":{"N":")") + kBig + R"("}})",
       R"({"id":{"S":"sets"},"ss":{"SS":["x","y"]},"bs":{"BS":["AAEC"]}})",
       R"({"id":{"S":"gone"},"n":{"N":"1"}})"});
  snapshot(t0);
  // The scan, then its summary's startTime set to t0: as if it had run then (the export server's snapshots
  // are what the incremental export compares).
  ScanOptions scan = aws_.scan_options(table_, folder("scans"));
  scan.format = OutputFormat::kDynamoDbJson;
  scan.run_id = "base";
  auto scanned_run = run_scan(scan);
  ASSERT_TRUE(scanned_run.ok()) << scanned_run.error().to_string();
  auto summary = aws_.read(folder("scans/base"), "manifest-summary.json");
  ASSERT_TRUE(summary.ok() && summary->has_value());
  std::string text = **summary;
  const size_t at = text.find("\"startTime\":\"");
  ASSERT_NE(at, std::string::npos);
  const size_t end = text.find('"', at + 13);
  text.replace(at + 13, end - at - 13, format_time(t0));
  // And its tableArn the export server's (dynalite's account differs): the same table, as on AWS.
  const size_t arn = text.find("\"tableArn\":\"");
  ASSERT_NE(arn, std::string::npos);
  text.replace(arn + 12, text.find('"', arn + 12) - arn - 12, ExportServer::table_arn(table_));
  ASSERT_TRUE(s3().put_object(bucket_, "scans/base/manifest-summary.json", text).ok());

  put({R"({"id":{"S":"new"},"n":{"N":"5"}})"});
  remove({"gone"});
  snapshot(t1);
  ChainRunOptions o = options(t1);
  o.base = "s3://" + bucket_ + "/scans/base";
  const ChainRunOutcome r = run(o);
  EXPECT_EQ(r.action, ChainAction::kAdvanced);
  EXPECT_EQ(r.state.base.kind, "adopted-scan");
  EXPECT_EQ(r.state.base.to, t0);
  EXPECT_EQ(r.state.base.location, "s3://" + bucket_ + "/scans/base");
  EXPECT_EQ(server_.exports_created(), 1);  // no full export: only the incremental one
  EXPECT_EQ(items_at(snapshot_prefix(r.state)), scanned());

  // --base again on a chain that has one: a usage error naming it.
  ChainRunOptions again = options(t1 + kHour);
  again.base = o.base;
  auto refused = run_chain(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(refused.error().field, "base");
}

TEST_F(PitrChainTest, AMergeThatDiedIsCleanedUpOrAdoptedByTheNext) {
  const double t0 = std::floor(now_seconds()) - 5 * kHour, t1 = t0 + kHour, t2 = t1 + kHour;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"b"},"n":{"N":"2"}})"});
  snapshot(t0);
  const ChainRunOutcome base = start(t0, false);
  ASSERT_EQ(base.action, ChainAction::kStartedBase);
  put({R"({"id":{"S":"c"},"n":{"N":"3"}})"});
  snapshot(t1);
  const ChainRunOutcome r1 = run(options(t1, false));  // exports, no merge
  ASSERT_EQ(r1.action, ChainAction::kAdvanced);
  EXPECT_EQ(r1.state.snapshot.incrementals, 0);

  // A merge died after writing a data file: its leftovers are removed, the merge is made again.
  S3Client& s3 = this->s3();
  const std::string folder1 = snapshot_folder("chain", t1);
  ASSERT_TRUE(s3.put_object(bucket_, folder1 + "/data/p0000-00001.json.gz", "half a file").ok());
  ChainMergeOptions m;
  m.chain = "s3://" + bucket_ + "/chain";
  m.s3.endpoint_url = aws_.s3_endpoint();
  m.env = aws_.env();
  auto merged = merge_chain(m);
  ASSERT_TRUE(merged.ok()) << merged.error().to_string();
  EXPECT_EQ(merged->to, "s3://" + bucket_ + "/" + folder1);
  EXPECT_EQ(items_at(folder1), scanned());
  EXPECT_EQ(merged->state.snapshot.incrementals, 1);

  // A merge finished its snapshot and died before recording it: the next merge adopts it as it is.
  remove({"a"});
  snapshot(t2);
  ASSERT_EQ(run(options(t2, false)).action, ChainAction::kAdvanced);
  auto state = parse_chain_state(stored_state(), "state");
  ASSERT_TRUE(state.ok());
  MergeOptions direct;
  direct.base = state->snapshot.location;
  direct.incrementals = {state->incrementals.back().location};
  direct.to = "s3://" + bucket_ + "/" + snapshot_folder("chain", t2);
  direct.key_attributes = {"id"};
  direct.s3.endpoint_url = aws_.s3_endpoint();
  direct.env = aws_.env();
  auto written = merge_exports(direct);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  auto adopted = merge_chain(m);
  ASSERT_TRUE(adopted.ok()) << adopted.error().to_string();
  EXPECT_EQ(adopted->state.snapshot.location, direct.to);
  EXPECT_EQ(adopted->state.snapshot.item_count, 2);
  EXPECT_EQ(items_at(snapshot_folder("chain", t2)), scanned());
}

TEST_F(PitrChainTest, FourProcessesMergeTheChainsPartitionsThenFinalizeAndVerifyDeepPasses) {
  const double t0 = std::floor(now_seconds()) - 5 * kHour, t1 = t0 + kHour;
  std::vector<std::string> items;
  for (int i = 0; i < 40; ++i)
    items.push_back(R"({"id":{"S":"k)" + std::to_string(i) + R"("},"n":{"N":")" + kBig + R"("},"i":{"N":")" +
                    std::to_string(i) + R"("}})");
  put(items);
  snapshot(t0);
  ASSERT_EQ(start(t0, false).action, ChainAction::kStartedBase);
  put({R"({"id":{"S":"k1"},"ss":{"SS":["changed"]}})", R"({"id":{"S":"new"},"b":{"B":"AAEC"}})"});
  remove({"k2", "k3", "k30"});
  snapshot(t1);
  ASSERT_EQ(run(options(t1, false)).action, ChainAction::kAdvanced);

  const std::string chain = "s3://" + bucket_ + "/chain";
  const std::map<std::string, std::string> env = aws_.env_vars();
  std::vector<std::unique_ptr<testing::ChildProcess>> partitions;
  for (int i = 0; i < 4; ++i)
    partitions.push_back(std::make_unique<testing::ChildProcess>(
        testing::ddb2s3_argv({"merge", chain, "--partitions", "4", "--partition", std::to_string(i),
                              "--endpoint-url", aws_.s3_endpoint(), "--file-size", "300"}),
        env));
  for (auto& p : partitions) {
    auto o = p->wait();
    ASSERT_EQ(o.exit_code, 0) << o.err;
  }
  // Partitions alone record nothing: the chain's snapshot is still the base.
  auto before = parse_chain_state(stored_state(), "state");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->snapshot.incrementals, 0);

  auto finalized =
      testing::run_process(testing::ddb2s3_argv({"merge", chain, "--finalize", "--partitions", "4",
                                                 "--endpoint-url", aws_.s3_endpoint(), "--json"}),
                           env);
  ASSERT_EQ(finalized.exit_code, 0) << finalized.err;
  auto json = testing::parse_json(finalized.out);
  ASSERT_TRUE(json.ok()) << finalized.out;
  EXPECT_EQ(json->find("mode")->text, "chain");
  const std::string folder = snapshot_folder("chain", t1);
  EXPECT_EQ(json->find("snapshot")->text, "s3://" + bucket_ + "/" + folder);
  EXPECT_EQ(items_at(folder), scanned());
  auto after = parse_chain_state(stored_state(), "state");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->snapshot.incrementals, 1);
  EXPECT_EQ(after->snapshot.item_count, 38);

  // The snapshot passes the checks a scan's run passes: verify --deep, with the folder as the run.
  auto verified = testing::run_process(
      testing::ddb2s3_argv({"verify", chain + "/snapshots", "--run-id", folder.substr(folder.rfind('/') + 1),
                            "--deep", "--dest-endpoint-url", aws_.s3_endpoint(), "--json"}),
      env);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto report = testing::parse_json(verified.out);
  ASSERT_TRUE(report.ok()) << verified.out;
  EXPECT_EQ(report->find("ok")->text, "true");
  EXPECT_EQ(report->find("items")->text, "38");

  // Again: nothing to merge.
  auto again =
      testing::run_process(testing::ddb2s3_argv({"merge", chain, "--endpoint-url", aws_.s3_endpoint()}), env);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("nothing to do"), std::string::npos) << again.err;
}

// The program as a daily job runs it: real time, the export server's point-in-time window ending 5 minutes
// ago, a base three days old, so that the second run makes three consecutive exports and merges them.
TEST_F(PitrChainTest, TheProgramStartsAdvancesAndMergesTheChainAndSaysWhenThereIsNothingToDo) {
  const std::string dest = "s3://" + bucket_ + "/cli";
  std::map<std::string, std::string> env = aws_.env_vars();
  auto ddb2s3 = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"export",
                                     table_,
                                     dest,
                                     "--chain",
                                     "--endpoint-url",
                                     server_.url(),
                                     "--dest-endpoint-url",
                                     aws_.s3_endpoint(),
                                     "--check-interval",
                                     "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(testing::ddb2s3_argv(argv), env);
  };
  const double t0 = std::floor(now_seconds()) - 3 * kDay + 600;
  put({R"({"id":{"S":"a"},"n":{"N":"1"}})", R"({"id":{"S":"gone"},"ss":{"SS":["x"]}})"});
  snapshot(t0);
  auto first = ddb2s3({"--export-time", format_time(t0), "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto first_json = testing::parse_json(first.out);
  ASSERT_TRUE(first_json.ok()) << first.out;
  EXPECT_EQ(first_json->find("action")->text, "started-base");
  EXPECT_EQ(first_json->find("state")->text, dest + "/" + std::string(kChainStateName));

  put({std::string(R"({"id":{"S":"a"},"n":{"N":")") + kBig + R"("},"b":{"B":"AAEC"}})",
       R"({"id":{"S":"new"},"l":{"L":[{"NULL":true}]}})"});
  remove({"gone"});
  snapshot(now_seconds() - 400);  // inside the last window, which ends at the window's end (now - 5 min)
  auto second = ddb2s3({"--merge", "--partitions", "2", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto second_json = testing::parse_json(second.out);
  ASSERT_TRUE(second_json.ok()) << second.out;
  EXPECT_EQ(second_json->find("action")->text, "advanced");
  EXPECT_EQ(second_json->find("incrementals")->text, "3");
  ASSERT_NE(second_json->find("merge"), nullptr);
  EXPECT_EQ(second_json->find("merge")->find("items")->text, "2");
  const std::string snapshot_location = second_json->find("snapshot")->text;
  ASSERT_EQ(snapshot_location.rfind(dest + "/snapshots/", 0), 0u) << snapshot_location;
  EXPECT_EQ(items_at(snapshot_location.substr(("s3://" + bucket_ + "/").size())), scanned());

  // At once again: nothing to export; said on stderr, exit 0.
  auto third = ddb2s3({"--merge"});
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.err.find("nothing to export yet"), std::string::npos) << third.err;
  EXPECT_EQ(server_.exports_created(), 4);

  // Usage errors: exit 2, naming the flag.
  auto usage = ddb2s3({"--incremental"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  EXPECT_NE(usage.err.find("--incremental"), std::string::npos) << usage.err;
  auto merge_alone = testing::run_process(
      testing::ddb2s3_argv({"export", table_, dest, "--merge", "--endpoint-url", server_.url()}), env);
  EXPECT_EQ(merge_alone.exit_code, 2) << merge_alone.err;

  // A failed export: exit 1, and the message says that the chain stays where it was.
  const std::string other = "s3://" + bucket_ + "/cli-failing";
  auto base = testing::run_process(
      testing::ddb2s3_argv({"export", table_, other, "--chain", "--export-time", format_time(t0),
                            "--endpoint-url", server_.url(), "--dest-endpoint-url", aws_.s3_endpoint(),
                            "--check-interval", "0"}),
      env);
  ASSERT_EQ(base.exit_code, 0) << base.err;
  ExportServer::Schedule failing;
  failing.fail = true;
  server_.set_schedule(failing);
  auto failed = testing::run_process(
      testing::ddb2s3_argv({"export", table_, other, "--chain", "--endpoint-url", server_.url(),
                            "--dest-endpoint-url", aws_.s3_endpoint(), "--check-interval", "0"}),
      env);
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("FAILED"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("the chain stays at " + format_time(t0)), std::string::npos) << failed.err;
  EXPECT_NE(merge_alone.err.find("--chain"), std::string::npos) << merge_alone.err;
}

}  // namespace
}  // namespace ddb2s3

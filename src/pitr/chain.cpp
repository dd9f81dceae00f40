// The incremental chain (see chain.h): its state object, the lock, the exports of one run, and merges into
// the chain's current snapshot.
#include "pitr/chain.h"

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "aws/session.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "dynamodb/dynamodb.h"
#include "s3/s3.h"
#include "sink/sink.h"

namespace ddb2s3 {
namespace {

constexpr std::string_view kSummaryName = "manifest-summary.json";
// A merge is one call that cannot renew its lock: its lease is long. A run that takes a lapsed lease over
// while a slow merge goes on cannot lose data: the merge's state write (If-Match) then fails.
constexpr double kMergeLeaseSeconds = 6 * 60 * 60;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_run_id() {
  std::random_device rd;
  char id[20];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  return id;
}

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "unknown";
  return host;
}

// --- the state as JSON ---

void write_export(std::string& out, const ChainExport& e, bool incremental) {
  JsonObjectWriter w(out);
  w.string_if_set("exportArn", e.export_arn);
  w.string("location", e.location);
  if (incremental) w.string("exportFromTime", format_time(e.from));
  w.string(incremental ? "exportToTime" : "exportTime", format_time(e.to));
  w.number("itemCount", e.item_count);
  w.string_if_set("kind", e.kind);
  w.close();
}

Error bad_state(std::string_view where, std::string what) {
  Error e = Error::make(ErrorKind::kClient, "BadChainState", std::string(where) + ": " + what);
  e.hint =
      "the chain's state object was changed by hand or by another program; restore it from its history "
      "(S3 versioning) or start a new chain under another prefix";
  return e;
}

Result<std::string> get_string(simdjson::dom::object o, std::string_view name, std::string_view where,
                               bool required = true) {
  std::string_view v;
  auto err = o[name].get_string().get(v);
  if (err == simdjson::NO_SUCH_FIELD && !required) return std::string();
  if (err) return bad_state(where, "'" + std::string(name) + "' is missing or not a string");
  return std::string(v);
}

Result<double> get_time(simdjson::dom::object o, std::string_view name, std::string_view where) {
  DDB2S3_ASSIGN_OR_RETURN(std::string text, get_string(o, name, where));
  auto t = parse_time(text);
  if (!t) return bad_state(where, "'" + std::string(name) + "' is not a time: " + text);
  return *t;
}

Result<int64_t> get_int(simdjson::dom::object o, std::string_view name, std::string_view where) {
  int64_t v = 0;
  if (o[name].get_int64().get(v)) return bad_state(where, "'" + std::string(name) + "' is not an integer");
  return v;
}

Result<ChainExport> parse_export(simdjson::dom::element e, bool incremental, std::string_view where) {
  simdjson::dom::object o;
  if (e.get_object().get(o)) return bad_state(where, "an export is not an object");
  ChainExport x;
  DDB2S3_ASSIGN_OR_RETURN(x.export_arn, get_string(o, "exportArn", where, false));
  DDB2S3_ASSIGN_OR_RETURN(x.location, get_string(o, "location", where));
  if (incremental) {
    DDB2S3_ASSIGN_OR_RETURN(x.from, get_time(o, "exportFromTime", where));
  }
  DDB2S3_ASSIGN_OR_RETURN(x.to, get_time(o, incremental ? "exportToTime" : "exportTime", where));
  DDB2S3_ASSIGN_OR_RETURN(x.item_count, get_int(o, "itemCount", where));
  DDB2S3_ASSIGN_OR_RETURN(x.kind, get_string(o, "kind", where, false));
  return x;
}

// A string member, or empty when it is absent or not a string.
std::string_view string_or_empty(simdjson::dom::object o, std::string_view name) {
  std::string_view v;
  if (o[name].get_string().get(v)) return {};
  return v;
}

int64_t int_or_zero(simdjson::dom::object o, std::string_view name) {
  int64_t v = 0;
  if (o[name].get_int64().get(v)) return 0;
  return v;
}

// --- S3: the chain's place ---

struct Place {
  Destination dest;  // s3://BUCKET/PREFIX of the chain
  std::unique_ptr<S3Client> s3;
  std::string state_key, lock_key;
  std::string describe(std::string_view key) const { return dest.describe(key); }
};

Result<Place> open_place(const std::string& bucket, const std::string& prefix, const AwsOptions& s3,
                         const Environment& env, const SessionOptions& session) {
  Place p;
  p.dest.is_s3 = true;
  p.dest.bucket = bucket;
  p.dest.prefix = prefix;
  while (!p.dest.prefix.empty() && p.dest.prefix.back() == '/') p.dest.prefix.pop_back();
  DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("s3", s3, env, session));
  p.s3 = std::make_unique<S3Client>(config);
  p.state_key = p.dest.key(kChainStateName);
  p.lock_key = p.dest.key(kChainLockName);
  return p;
}

bool lost_condition(const Error& e) {
  return e.http_status == 412 || e.code == "PreconditionFailed" || e.code == "ConditionalRequestConflict";
}

struct StoredState {
  ChainState state;
  std::string etag;
};

Result<std::optional<StoredState>> read_state(Place& p) {
  std::string body;
  DDB2S3_ASSIGN_OR_RETURN(auto found, p.s3->get_object_if_exists(p.dest.bucket, p.state_key, body));
  if (!found) return std::optional<StoredState>();
  DDB2S3_ASSIGN_OR_RETURN(ChainState state, parse_chain_state(body, p.describe(p.state_key)));
  return std::optional<StoredState>(StoredState{std::move(state), found->etag});
}

Error chain_moved(const Place& p) {
  Error e = Error::make(ErrorKind::kClient, "ChainMoved",
                        p.describe(p.state_key) +
                            " was changed by another run while this one held the lock "
                            "(its lease ran out?): nothing more was recorded");
  e.hint = "run again: the next run starts where the chain now is";
  return e;
}

// Writes the state with If-Match: etag (If-None-Match: * when etag is empty) and sets etag to the new one.
Status write_state(Place& p, ChainState& state, std::string& etag) {
  const std::string body = chain_state_json(state);
  ObjectOptions o;
  o.content_type("application/json");
  if (etag.empty())
    o.set("If-None-Match", "*");
  else
    o.set("If-Match", "\"" + etag + "\"");
  auto put = p.s3->put_object(p.dest.bucket, p.state_key, body, o);
  if (put) {
    etag = *put;
    return {};
  }
  if (!lost_condition(put.error())) return std::move(put).error();
  // A retried PUT whose first attempt succeeded fails its condition: then the object is ours.
  std::string now;
  auto found = p.s3->get_object_if_exists(p.dest.bucket, p.state_key, now);
  if (found && *found && now == body) {
    etag = (*found)->etag;
    return {};
  }
  return chain_moved(p);
}

// --- the lock ---

struct LockRecord {
  std::string run_id, host;
  int64_t pid = 0;
  double acquired = 0, expires = 0;
};

std::string lock_json(const LockRecord& r) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("runId", r.run_id);
  w.string("host", r.host);
  w.number("pid", r.pid);
  w.string("acquired", format_time(r.acquired));
  w.string("expires", format_time(r.expires));
  w.close();
  return out + "\n";
}

std::optional<LockRecord> parse_lock(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json.data(), json.size()).get_object().get(o)) return std::nullopt;
  LockRecord r;
  std::string_view run, host, acquired, expires;
  if (o["runId"].get_string().get(run) || o["expires"].get_string().get(expires)) return std::nullopt;
  r.run_id = std::string(run);
  if (!o["host"].get_string().get(host)) r.host = std::string(host);
  r.pid = int_or_zero(o, "pid");
  if (!o["acquired"].get_string().get(acquired)) {
    auto t = parse_time(acquired);
    if (t) r.acquired = *t;
  }
  auto e = parse_time(expires);
  if (!e) return std::nullopt;
  r.expires = *e;
  return r;
}

// Held from acquire() until destroyed (or released): then the lock object is removed if it is still ours.
class ChainLock {
 public:
  ChainLock(Place& place, std::string run_id) : place_(place), run_id_(std::move(run_id)) {}
  ~ChainLock() { release(); }
  ChainLock(const ChainLock&) = delete;
  ChainLock& operator=(const ChainLock&) = delete;

  Status acquire(double lease_seconds) {
    LockRecord mine{run_id_, host_name(), static_cast<int64_t>(getpid()), wall_now(), 0};
    mine.expires = mine.acquired + lease_seconds;
    for (int attempt = 0; attempt < 3; ++attempt) {
      ObjectOptions create;
      create.content_type("application/json").set("If-None-Match", "*");
      auto put = place_.s3->put_object(place_.dest.bucket, place_.lock_key, lock_json(mine), create);
      if (put) {
        etag_ = *put;
        held_ = true;
        return {};
      }
      if (!lost_condition(put.error())) return std::move(put).error();
      std::string body;
      DDB2S3_ASSIGN_OR_RETURN(auto found,
                              place_.s3->get_object_if_exists(place_.dest.bucket, place_.lock_key, body));
      if (!found) continue;  // released in between: try again
      const auto other = parse_lock(body);
      if (other && other->run_id == run_id_) {  // our own PUT, its answer lost and retried
        etag_ = found->etag;
        held_ = true;
        return {};
      }
      if (!other || other->expires > wall_now()) return busy(other);
      // Its lease ran out (that run died): take it over, unless another run does so first.
      ObjectOptions take;
      take.content_type("application/json").set("If-Match", "\"" + found->etag + "\"");
      auto taken = place_.s3->put_object(place_.dest.bucket, place_.lock_key, lock_json(mine), take);
      if (taken) {
        etag_ = *taken;
        held_ = true;
        took_over_ = *other;
        return {};
      }
      if (!lost_condition(taken.error())) return std::move(taken).error();
    }
    return busy(std::nullopt);
  }

  // A longer lease before a long wait; fails when another run has taken the lock over.
  Status renew(double lease_seconds) {
    LockRecord mine{run_id_, host_name(), static_cast<int64_t>(getpid()), wall_now(), 0};
    mine.expires = mine.acquired + lease_seconds;
    ObjectOptions o;
    o.content_type("application/json").set("If-Match", "\"" + etag_ + "\"");
    auto put = place_.s3->put_object(place_.dest.bucket, place_.lock_key, lock_json(mine), o);
    if (put) {
      etag_ = *put;
      return {};
    }
    if (lost_condition(put.error())) {
      held_ = false;
      return chain_moved(place_);
    }
    return std::move(put).error();
  }

  void release() {
    if (!held_) return;
    held_ = false;
    std::string body;
    auto found = place_.s3->get_object_if_exists(place_.dest.bucket, place_.lock_key, body);
    if (!found || !*found) return;
    const auto record = parse_lock(body);
    if (record && record->run_id == run_id_)
      (void)place_.s3->delete_object(place_.dest.bucket, place_.lock_key);
  }

  const std::optional<LockRecord>& took_over() const { return took_over_; }

 private:
  Error busy(const std::optional<LockRecord>& other) const {
    std::string who = other ? "run " + other->run_id + " on " + other->host + " (pid " +
                                  std::to_string(other->pid) + ") since " + format_time(other->acquired)
                            : "another run (its lock does not parse)";
    Error e = Error::make(ErrorKind::kClient, "ChainBusy",
                          "the chain at " + place_.describe(place_.dest.key("")) + " is being advanced by " +
                              who + ": this run did not advance it");
    e.hint = other ? "its lease ends at " + format_time(other->expires) + "; if that run is dead, remove " +
                         place_.describe(place_.lock_key) + " or run again after that time"
                   : "if no other run is going on, remove " + place_.describe(place_.lock_key);
    return e;
  }

  Place& place_;
  std::string run_id_;
  std::string etag_;
  bool held_ = false;
  std::optional<LockRecord> took_over_;
};

// --- locations ---

std::string s3_url(std::string_view bucket, std::string_view key) {
  std::string out = "s3://" + std::string(bucket);
  if (!key.empty()) out += "/" + std::string(key);
  return out;
}

std::string folder_of_manifest(const std::string& manifest_key) {
  const size_t slash = manifest_key.rfind('/');
  return slash == std::string::npos ? std::string() : manifest_key.substr(0, slash);
}

// The summary of a base to adopt: a native full export, or a `scan --format dynamodb-json` run.
Result<ChainExport> adopt_base(const std::string& location_given, const std::string& table_arn,
                               Place& place) {
  std::string location = location_given;
  if (location.ends_with("/" + std::string(kSummaryName)))
    location.resize(location.size() - kSummaryName.size() - 1);
  while (location.size() > 5 && location.back() == '/') location.pop_back();
  auto dest = Destination::parse(location);
  if (!dest || !dest->is_s3)
    return Error::usage("--base must be s3://BUCKET/PREFIX of an export or scan run (got '" + location_given +
                        "')")
        .with_field("base");
  const std::string key = dest->key(kSummaryName);
  std::string body;
  DDB2S3_ASSIGN_OR_RETURN(auto found, place.s3->get_object_if_exists(dest->bucket, key, body));
  if (!found) {
    Error e = Error::make(ErrorKind::kClient, "NoBase",
                          "no " + std::string(kSummaryName) + " at " + dest->describe(key));
    e.hint =
        "--base is a full export's folder (PREFIX/AWSDynamoDB/<ExportId>) or a finished `ddb2s3 scan "
        "--format dynamodb-json` run (PREFIX/RUN_ID)";
    e.field = "base";
    return e;
  }
  const std::string where = dest->describe(key);
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(body.data(), body.size()).get_object().get(o))
    return Error::make(ErrorKind::kClient, "BadBase", where + " is not a JSON object");
  const std::string_view type = string_or_empty(o, "exportType"), format = string_or_empty(o, "outputFormat"),
                         arn = string_or_empty(o, "tableArn");
  std::string_view time_text;
  ChainExport base;
  base.location = s3_url(dest->bucket, dest->prefix);
  base.item_count = int_or_zero(o, "itemCount");
  if (format != "DYNAMODB_JSON")
    return Error::usage(where + " has outputFormat '" + std::string(format) +
                        "': the chain merges DynamoDB JSON only (scan with --format dynamodb-json)")
        .with_field("base");
  if (!arn.empty() && arn != table_arn)
    return Error::usage(where + " is of table " + std::string(arn) + ", not " + table_arn).with_field("base");
  if (type == "FULL_EXPORT" && !o["exportTime"].get_string().get(time_text)) {
    std::string_view export_arn;
    if (!o["exportArn"].get_string().get(export_arn)) base.export_arn = std::string(export_arn);
    base.kind = "adopted-export";
  } else if (type == "SCAN" && !o["startTime"].get_string().get(time_text)) {
    // A scan is not a point in time: it saw each item at some moment between its start and its end. The
    // chain goes on from its start, so every change after that is applied again (the latest wins).
    if (string_or_empty(o, "compression") == "zstd")
      return Error::usage(where + " is compressed with zstd: merge reads gzip or uncompressed data files")
          .with_field("base");
    base.kind = "adopted-scan";
  } else {
    return Error::usage(where +
                        " is neither a full export (exportType FULL_EXPORT with exportTime) nor a scan "
                        "run (exportType SCAN with startTime)")
        .with_field("base");
  }
  auto t = parse_time(time_text);
  if (!t)
    return Error::make(ErrorKind::kClient, "BadBase",
                       where + ": '" + std::string(time_text) + "' is not a time");
  base.to = *t;
  return base;
}

ChainExport recorded_export(const ExportDescription& d, const std::string& bucket, bool incremental) {
  ChainExport x;
  x.export_arn = d.export_arn;
  x.location = s3_url(d.s3_bucket.empty() ? bucket : d.s3_bucket, folder_of_manifest(d.export_manifest));
  x.item_count = d.item_count.value_or(0);
  if (incremental && d.incremental) {
    x.from = d.incremental->export_from_time.value_or(0);
    x.to = d.incremental->export_to_time.value_or(0);
  } else {
    x.to = d.export_time.value_or(0);
  }
  return x;
}

double wait_budget(const WaitOptions& w) {
  return w.check_interval_seconds * std::max(w.max_attempts, 1) + 60;
}

// The chain's own snapshot folder before a merge into it: a summary there that says it was merged from these
// exports is a snapshot an earlier run finished but did not record (its item count is returned); data files
// without a summary are what a failed merge left, removed here. A summary of another merge is an error.
Result<std::optional<int64_t>> recover_snapshot_folder(Place& place, const MergeOptions& m) {
  auto to = Destination::parse(m.to);
  if (!to || !to->is_s3) return std::optional<int64_t>();
  std::string body;
  DDB2S3_ASSIGN_OR_RETURN(auto summary,
                          place.s3->get_object_if_exists(to->bucket, to->key(kSummaryName), body));
  if (summary) {
    simdjson::dom::parser parser;
    simdjson::dom::object o, from;
    simdjson::dom::array incs;
    bool same = !parser.parse(body.data(), body.size()).get_object().get(o) &&
                !o["mergedFrom"].get_object().get(from) && string_or_empty(from, "base") == m.base &&
                !from["incrementals"].get_array().get(incs) && incs.size() == m.incrementals.size();
    for (size_t i = 0; same && i < m.incrementals.size(); ++i) {
      std::string_view text;
      same = !incs.at(i).get_string().get(text) && text == m.incrementals[i];
    }
    if (!same) {
      Error e = Error::make(ErrorKind::kClient, "SnapshotExists",
                            to->describe(to->key(kSummaryName)) +
                                " exists and was not merged from the chain's current snapshot and exports");
      e.hint = "something else wrote into the chain's snapshots/ folder; move it away and run again";
      return e;
    }
    return std::optional<int64_t>(int_or_zero(o, "itemCount"));
  }
  DDB2S3_ASSIGN_OR_RETURN(auto leftovers, place.s3->list_objects(to->bucket, to->key("data/")));
  for (const auto& object : leftovers)
    DDB2S3_RETURN_IF_ERROR(place.s3->delete_object(to->bucket, object.key));
  return std::optional<int64_t>();
}

// Merges what the snapshot lacks into PREFIX/snapshots/<through> (or to) and records it. The caller holds the
// lock when there is one.
Result<ChainMergeOutcome> merge_into_snapshot(Place& place, StoredState& stored, const ChainMergeOptions& o) {
  ChainState& state = stored.state;
  ChainMergeOutcome out;
  const int have = state.snapshot.incrementals;
  const int total = static_cast<int>(state.incrementals.size());
  out.up_to_date = have >= total;
  if (out.up_to_date) {
    out.state = state;
    return out;
  }
  MergeOptions m;
  m.base = state.snapshot.location;
  for (int i = have; i < total; ++i)
    m.incrementals.push_back(state.incrementals[static_cast<size_t>(i)].location);
  m.to = o.to.empty() ? s3_url(place.dest.bucket, snapshot_folder(place.dest.prefix, state.through())) : o.to;
  m.key_attributes = state.key_attributes;
  m.partitions = o.partitions;
  m.partition = o.partition;
  m.file_size = o.file_size;
  m.s3 = o.s3;
  m.env = o.env;
  m.session = o.session;
  out.to = m.to;
  std::optional<int64_t> adopted;
  if (o.to.empty() && o.partition < 0 && !o.finalize) {
    // An earlier run may have written this very snapshot and died before recording it.
    DDB2S3_ASSIGN_OR_RETURN(adopted, recover_snapshot_folder(place, m));
  }
  if (adopted) {
    out.merge.items = *adopted;
    out.merge.summary_key = Destination::parse(m.to)->key(kSummaryName);
  } else {
    DDB2S3_ASSIGN_OR_RETURN(out.merge, o.finalize ? finalize_merge(m) : merge_exports(m));
  }
  out.partition_only = o.partition >= 0;
  if (!out.partition_only) {  // one partition records nothing: its finalize does
    state.snapshot = {m.to, state.through(), total, out.merge.items};
    state.updated = wall_now();
    DDB2S3_RETURN_IF_ERROR(write_state(place, state, stored.etag));
  }
  out.state = state;
  return out;
}

Result<std::pair<std::string, std::string>> split_s3(const std::string& location, std::string_view field) {
  auto dest = Destination::parse(location);
  if (!dest || !dest->is_s3)
    return Error::usage("'" + location + "' is not s3://BUCKET/PREFIX: the chain lives in S3")
        .with_field(std::string(field));
  return std::make_pair(dest->bucket, dest->prefix);
}

}  // namespace

std::string chain_state_json(const ChainState& s) {
  std::string out;
  JsonObjectWriter w(out);
  w.number("version", s.version);
  w.string("table", s.table);
  w.string("tableArn", s.table_arn);
  w.array("keyAttributes", s.key_attributes,
          [](std::string& o, const std::string& k) { append_json_string(o, k); });
  w.string("exportViewType", s.export_view_type);
  w.key("base");
  write_export(out, s.base, false);
  w.array("incrementals", s.incrementals,
          [](std::string& o, const ChainExport& e) { write_export(o, e, true); });
  w.string("through", format_time(s.through()));
  w.key("snapshot");
  {
    JsonObjectWriter snap(out);
    snap.string("location", s.snapshot.location);
    snap.string("through", format_time(s.snapshot.through));
    snap.number("incrementals", s.snapshot.incrementals);
    snap.number("itemCount", s.snapshot.item_count);
    snap.close();
  }
  w.string("updated", format_time(s.updated));
  w.close();
  return out + "\n";
}

Result<ChainState> parse_chain_state(std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json.data(), json.size()).get_object().get(o))
    return bad_state(where, "not a JSON object");
  ChainState s;
  int64_t version = 0;
  if (o["version"].get_int64().get(version) || version != 1)
    return bad_state(where, "version is not 1 (written by a newer ddb2s3?)");
  DDB2S3_ASSIGN_OR_RETURN(s.table, get_string(o, "table", where));
  DDB2S3_ASSIGN_OR_RETURN(s.table_arn, get_string(o, "tableArn", where));
  DDB2S3_ASSIGN_OR_RETURN(s.export_view_type, get_string(o, "exportViewType", where));
  simdjson::dom::array keys, incs;
  if (o["keyAttributes"].get_array().get(keys)) return bad_state(where, "'keyAttributes' is not an array");
  for (auto k : keys) {
    std::string_view name;
    if (k.get_string().get(name)) return bad_state(where, "a key attribute is not a string");
    s.key_attributes.emplace_back(name);
  }
  simdjson::dom::element base;
  if (o["base"].get(base)) return bad_state(where, "'base' is missing");
  DDB2S3_ASSIGN_OR_RETURN(s.base, parse_export(base, false, where));
  if (o["incrementals"].get_array().get(incs)) return bad_state(where, "'incrementals' is not an array");
  for (auto e : incs) {
    DDB2S3_ASSIGN_OR_RETURN(auto x, parse_export(e, true, where));
    s.incrementals.push_back(std::move(x));
  }
  simdjson::dom::object snap;
  if (o["snapshot"].get_object().get(snap)) return bad_state(where, "'snapshot' is missing");
  DDB2S3_ASSIGN_OR_RETURN(s.snapshot.location, get_string(snap, "location", where));
  DDB2S3_ASSIGN_OR_RETURN(s.snapshot.through, get_time(snap, "through", where));
  DDB2S3_ASSIGN_OR_RETURN(int64_t n, get_int(snap, "incrementals", where));
  if (n < 0 || n > static_cast<int64_t>(s.incrementals.size()))
    return bad_state(where, "the snapshot holds more incremental exports than the chain has");
  s.snapshot.incrementals = static_cast<int>(n);
  DDB2S3_ASSIGN_OR_RETURN(s.snapshot.item_count, get_int(snap, "itemCount", where));
  DDB2S3_ASSIGN_OR_RETURN(s.updated, get_time(o, "updated", where));
  return s;
}

std::vector<std::pair<double, double>> chain_windows(double from, double to) {
  std::vector<std::pair<double, double>> windows;
  const double gap = to - from;
  if (!(gap >= kMinIncrementalSeconds)) return windows;
  const int n = static_cast<int>(std::ceil(gap / kMaxIncrementalSeconds));
  // Equal windows (each >= 12 h when there are several), whole seconds apart; the last ends exactly at `to`.
  const double step = std::floor(gap / n);
  for (int i = 0; i < n; ++i) {
    const double a = from + step * i;
    windows.emplace_back(a, i + 1 == n ? to : a + step);
  }
  return windows;
}

std::string snapshot_folder(std::string_view prefix, double through) {
  const auto seconds = static_cast<std::time_t>(std::floor(through));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char name[32];
  std::strftime(name, sizeof name, "%Y%m%dT%H%M%SZ", &tm);
  std::string out(prefix);
  if (!out.empty()) out += '/';
  return out + "snapshots/" + name;
}

Result<ChainRunOutcome> run_chain(const ChainRunOptions& o) {
  const ExportOptions& x = o.exports;
  if (x.s3_bucket.empty()) return Error::usage("the chain needs s3://BUCKET/PREFIX").with_field("s3_bucket");
  if (!x.export_format.empty() && x.export_format != "DYNAMODB_JSON")
    return Error::usage("the chain merges DynamoDB JSON only: export_format must be DYNAMODB_JSON")
        .with_field("export_format");
  if (!x.export_type.empty() || x.export_from_time || x.export_to_time)
    return Error::usage("the chain chooses the export type and windows itself").with_field("export_type");
  DDB2S3_RETURN_IF_ERROR(check_wait_options(x.wait_options));
  if (o.partitions < 1 || o.partitions > 4096)
    return Error::usage("partitions must be from 1 to 4096").with_field("partitions");

  DDB2S3_ASSIGN_OR_RETURN(Place place, open_place(x.s3_bucket, x.s3_prefix, o.s3, x.env, x.session));
  DDB2S3_ASSIGN_OR_RETURN(auto config, export_dynamodb_config(x));
  DynamoDbClient dynamodb(config);
  DDB2S3_ASSIGN_OR_RETURN(auto table, dynamodb.describe_table(x.table));

  ChainLock lock(place, o.run_id.empty() ? random_run_id() : o.run_id);
  const double lease = o.lease_seconds > 0 ? o.lease_seconds : 15 * 60 + wait_budget(x.wait_options);
  DDB2S3_RETURN_IF_ERROR(lock.acquire(lease));

  ChainRunOutcome out;
  out.state_location = place.describe(place.state_key);
  DDB2S3_ASSIGN_OR_RETURN(auto stored, read_state(place));
  const std::string view = x.export_view_type.empty() ? "NEW_AND_OLD_IMAGES" : x.export_view_type;

  if (!stored) {
    StoredState made;
    ChainState& s = made.state;
    s.table = table.table_name;
    s.table_arn = table.table_arn;
    for (const auto& k : table.key_schema) s.key_attributes.push_back(k.attribute_name);
    std::sort(s.key_attributes.begin(), s.key_attributes.end());
    s.export_view_type = view;
    if (!o.base.empty()) {
      DDB2S3_ASSIGN_OR_RETURN(s.base, adopt_base(o.base, table.table_arn, place));
      out.action = ChainAction::kAdoptedBase;
    } else {
      ExportOptions full = x;
      full.export_type = "FULL_EXPORT";
      full.export_format = "DYNAMODB_JSON";
      full.export_view_type.clear();
      DDB2S3_ASSIGN_OR_RETURN(auto done, run_export(full));
      out.exports.push_back(done);
      if (done.state != ExportState::kCompleted) {
        out.action = ChainAction::kFailed;
        return out;
      }
      s.base = recorded_export(done.description, x.s3_bucket, false);
      s.base.kind = "export";
      out.action = ChainAction::kStartedBase;
    }
    s.snapshot = {s.base.location, s.base.to, 0, s.base.item_count};
    s.updated = wall_now();
    DDB2S3_RETURN_IF_ERROR(write_state(place, s, made.etag));
    stored = std::move(made);
    if (out.action == ChainAction::kStartedBase) {  // as of now: nothing to add
      out.state = stored->state;
      return out;
    }
  } else {
    if (stored->state.table_arn != table.table_arn) {
      Error e = Error::usage("the chain at " + place.describe(place.dest.key("")) + " is of table " +
                             stored->state.table_arn + ", not " + table.table_arn);
      e.hint = "give each table its own prefix";
      e.field = "table";
      return e;
    }
    if (!o.base.empty())
      return Error::usage("--base adopts a base on a chain's first run only; " + out.state_location +
                          " exists already")
          .with_field("base");
  }
  ChainState& state = stored->state;

  // Up to now, but not past what point-in-time recovery can export yet.
  DDB2S3_ASSIGN_OR_RETURN(auto backups, dynamodb.describe_continuous_backups(x.table));
  double target = x.clock.now ? x.clock.now() : wall_now();
  if (backups.latest_restorable_time) target = std::min(target, *backups.latest_restorable_time);
  const auto windows = chain_windows(state.through(), target);
  if (windows.empty() && out.action != ChainAction::kAdoptedBase) {
    out.action = ChainAction::kUpToDate;
    out.next_window = state.through() + kMinIncrementalSeconds;
  }
  for (const auto& [from, to] : windows) {
    DDB2S3_RETURN_IF_ERROR(lock.renew(15 * 60 + wait_budget(x.wait_options)));
    ExportOptions inc = x;
    inc.export_type = "INCREMENTAL_EXPORT";
    inc.export_format = "DYNAMODB_JSON";
    inc.export_time.reset();
    inc.export_from_time = from;
    inc.export_to_time = to;
    inc.export_view_type = state.export_view_type;
    inc.client_token.clear();
    DDB2S3_ASSIGN_OR_RETURN(auto done, run_export(inc));
    out.exports.push_back(done);
    if (done.state != ExportState::kCompleted) {
      out.action = ChainAction::kFailed;
      out.state = state;
      return out;
    }
    ChainExport rec = recorded_export(done.description, x.s3_bucket, true);
    if (rec.to == 0) rec.to = to;
    if (rec.from == 0) rec.from = from;
    state.incrementals.push_back(std::move(rec));
    state.updated = wall_now();
    DDB2S3_RETURN_IF_ERROR(write_state(place, state, stored->etag));
    out.action = ChainAction::kAdvanced;
  }

  if (o.merge) {
    DDB2S3_RETURN_IF_ERROR(lock.renew(kMergeLeaseSeconds));
    ChainMergeOptions m;
    m.partitions = o.partitions;
    m.file_size = o.file_size;
    m.s3 = o.s3;
    m.env = x.env;
    m.session = x.session;
    DDB2S3_ASSIGN_OR_RETURN(auto merged, merge_into_snapshot(place, *stored, m));
    if (!merged.up_to_date) out.merge = std::move(merged.merge);
  }
  out.state = state;
  return out;
}

Result<ChainMergeOutcome> merge_chain(const ChainMergeOptions& o) {
  DDB2S3_ASSIGN_OR_RETURN(auto where, split_s3(o.chain, "chain"));
  DDB2S3_ASSIGN_OR_RETURN(Place place, open_place(where.first, where.second, o.s3, o.env, o.session));
  // One-partition runs read the state only; whoever records the snapshot holds the lock.
  std::optional<ChainLock> lock;
  if (o.partition < 0) {
    lock.emplace(place, o.run_id.empty() ? random_run_id() : o.run_id);
    DDB2S3_RETURN_IF_ERROR(lock->acquire(kMergeLeaseSeconds));
  }
  DDB2S3_ASSIGN_OR_RETURN(auto stored, read_state(place));
  if (!stored) {
    Error e = Error::make(ErrorKind::kClient, "NoChain", "no chain at " + place.describe(place.state_key));
    e.hint = "start one with `ddb2s3 export TABLE " + o.chain + " --chain`";
    return e;
  }
  return merge_into_snapshot(place, *stored, o);
}

Result<bool> is_chain(const std::string& location, const AwsOptions& s3, const Environment& env,
                      const SessionOptions& session) {
  auto dest = Destination::parse(location);
  if (!dest || !dest->is_s3) return false;
  DDB2S3_ASSIGN_OR_RETURN(Place place, open_place(dest->bucket, dest->prefix, s3, env, session));
  std::string body;
  DDB2S3_ASSIGN_OR_RETURN(auto found,
                          place.s3->get_object_if_exists(place.dest.bucket, place.state_key, body));
  return found.has_value();
}

}  // namespace ddb2s3

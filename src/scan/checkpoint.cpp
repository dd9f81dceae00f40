// Checkpoints of a run's segments (written with the JSON writer, read back strictly with json_args), the
// check of a resumed run's options against them, and the removal of data files that no manifest lists.
#include "scan/checkpoint.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <set>

#include "base/digest.h"
#include "base/json_args.h"
#include "base/json_writer.h"

namespace ddb2s3 {
namespace {

using Kind = JsonValue::Kind;

constexpr std::string_view kVersion = "ddb2s3-checkpoint-1";

Error invalid(std::string_view key, const std::string& why) {
  Error e = Error::make(ErrorKind::kClient, "InvalidCheckpoint",
                        "checkpoint '" + std::string(key) + "' is not valid: " + why);
  e.resource = std::string(key);
  e.hint =
      "it was not written by this version of ddb2s3, or was damaged; remove it to scan that segment "
      "again from its start";
  return e;
}

// The members of a JSON object read strictly: a missing or mistyped one is the checkpoint's error.
class Fields {
 public:
  Fields(const JsonValue& object, std::string_view key) : object_(object), key_(key) {}
  Result<const JsonValue*> get(std::string_view name, Kind kind) const {
    const JsonValue* v = object_.find(name);
    if (v == nullptr || !v->is(kind))
      return invalid(key_, std::string(name) + " is missing or of the wrong type");
    return v;
  }
  Result<uint64_t> count(std::string_view name) const {
    DDB2S3_ASSIGN_OR_RETURN(const JsonValue* v, get(name, Kind::kNumber));
    auto n = json_integer(*v, 0, INT64_MAX, name);
    if (!n) return invalid(key_, n.error().message);
    return static_cast<uint64_t>(*n);
  }
  Result<std::string> string(std::string_view name) const {
    DDB2S3_ASSIGN_OR_RETURN(const JsonValue* v, get(name, Kind::kString));
    return v->string;
  }

 private:
  const JsonValue& object_;
  std::string_view key_;
};

Result<Checkpoint> parse_checkpoint(std::string_view text, std::string_view key, std::string& options_json,
                                    std::string& fingerprint) {
  auto root = parse_json_arg(text, key);
  if (!root) return invalid(key, root.error().message);
  if (!root->is(Kind::kObject)) return invalid(key, "not a JSON object");
  Fields f(*root, key);
  Checkpoint c;
  DDB2S3_ASSIGN_OR_RETURN(std::string version, f.string("version"));
  if (version != kVersion) return invalid(key, "version '" + version + "' is not " + std::string(kVersion));
  DDB2S3_ASSIGN_OR_RETURN(uint64_t segment, f.count("segment"));
  c.done.segment = static_cast<int>(std::min<uint64_t>(segment, INT_MAX));
  DDB2S3_ASSIGN_OR_RETURN(uint64_t next, f.count("nextFileIndex"));
  c.next_file_index = static_cast<int>(std::min<uint64_t>(next, INT_MAX));
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue* finished, f.get("finished", Kind::kBool));
  c.finished = finished->boolean;
  DDB2S3_ASSIGN_OR_RETURN(c.start_time, f.string("startTime"));
  DDB2S3_ASSIGN_OR_RETURN(c.done.items, f.count("itemCount"));
  DDB2S3_ASSIGN_OR_RETURN(c.done.scanned, f.count("scannedCount"));
  DDB2S3_ASSIGN_OR_RETURN(c.done.scan_bytes, f.count("scanBytes"));
  DDB2S3_ASSIGN_OR_RETURN(c.done.pages, f.count("pages"));
  if (const JsonValue* rcu = root->find("consumedReadCapacityUnits"); rcu != nullptr) {
    auto units = json_number(*rcu, "consumedReadCapacityUnits");
    if (!units) return invalid(key, units.error().message);
    c.done.consumed_rcu = *units;
  }
  const JsonValue* esk = root->find("exclusiveStartKey");
  if (esk == nullptr || !(esk->is(Kind::kObject) || esk->is(Kind::kNull)))
    return invalid(key, "exclusiveStartKey is missing or of the wrong type");
  if (esk->is(Kind::kObject)) c.exclusive_start_key = std::string(esk->text);
  if (!c.finished && c.exclusive_start_key.empty() && c.done.pages > 0)
    return invalid(key, "an unfinished segment without exclusiveStartKey");
  DDB2S3_ASSIGN_OR_RETURN(fingerprint, f.string("optionsFingerprint"));
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue* options, f.get("options", Kind::kObject));
  options_json = std::string(options->text);
  if (sha256_hex(options_json) != fingerprint)
    return invalid(key, "optionsFingerprint does not match options");
  DDB2S3_ASSIGN_OR_RETURN(const JsonValue* files, f.get("files", Kind::kArray));
  for (const JsonValue& e : files->elements) {
    if (!e.is(Kind::kObject)) return invalid(key, "a file entry is not an object");
    Fields ff(e, key);
    DataFile d;
    DDB2S3_ASSIGN_OR_RETURN(d.item_count, ff.count("itemCount"));
    DDB2S3_ASSIGN_OR_RETURN(d.object.md5_base64, ff.string("md5Checksum"));
    DDB2S3_ASSIGN_OR_RETURN(d.object.etag, ff.string("etag"));
    DDB2S3_ASSIGN_OR_RETURN(d.object.key, ff.string("dataFileS3Key"));
    DDB2S3_ASSIGN_OR_RETURN(d.object.size, ff.count("size"));
    d.segment = c.done.segment;
    c.done.files.push_back(std::move(d));
  }
  return c;
}

// A value for a message, quoted as what the user gave: a string unescaped, anything else as written.
std::string describe_value(const JsonValue* v) {
  if (v == nullptr) return "none";
  return "'" + (v->is(Kind::kString) ? v->string : std::string(v->text)) + "'";
}

// A usage error naming the first option (ScanOptions member, or Scan field inside "scan") whose value
// differs between the checkpoint's options and these.
Error differing_option(std::string_view stored, std::string_view current, std::string_view key,
                       const std::string& run_id) {
  auto a = parse_json_arg(stored, key);
  auto b = parse_json_arg(current, "options");
  std::string name, was, now;
  if (a && b) {
    auto compare = [&](const JsonValue& x, const JsonValue& y) {
      std::vector<std::string> names;
      for (const auto& m : y.members) names.push_back(m.first);
      for (const auto& m : x.members)
        if (y.find(m.first) == nullptr) names.push_back(m.first);
      for (const std::string& n : names) {
        const JsonValue* p = x.find(n);
        const JsonValue* q = y.find(n);
        if (p != nullptr && q != nullptr && p->text == q->text) continue;
        name = n;
        was = describe_value(p);
        now = describe_value(q);
        return true;
      }
      return false;
    };
    const JsonValue* sa = a->find("scan");
    const JsonValue* sb = b->find("scan");
    bool found = false;
    JsonValue empty_a = *a, empty_b = *b;  // the top level without "scan", compared first
    std::erase_if(empty_a.members, [](const auto& m) { return m.first == "scan"; });
    std::erase_if(empty_b.members, [](const auto& m) { return m.first == "scan"; });
    found = compare(empty_a, empty_b);
    if (!found && sa != nullptr && sb != nullptr && sa->is(Kind::kObject) && sb->is(Kind::kObject))
      found = compare(*sa, *sb);
  }
  if (name.empty()) {
    name = "table";
    was = "another set of options";
    now = "these";
  }
  Error e = Error::usage(name + " differs from the checkpoint of run '" + run_id + "' ('" + std::string(key) +
                         "'): the run started with " + was + ", now " + now);
  e.hint = "continue a run with the options it started with, or give another run_id to start a new run";
  e.field = name;
  return e;
}

}  // namespace

std::string checkpoint_name(int segment) {
  return "checkpoints/segment-" + std::to_string(segment) + ".json";
}

std::string segment_data_prefix(int segment, int total_segments) {
  std::string name = data_file_name(segment, total_segments, 0, Compression::kNone);
  return name.substr(0, name.find('-') + 1);
}

std::string output_options_json(const ScanOptions& o) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("table", o.table);
  w.string("format", output_format_name(o.format));
  w.string("compression", compression_name(o.compression));
  if (o.compression != Compression::kNone) w.number("compression_level", o.compression_level);
  w.number("file_size", o.file_size);
  w.number("total_segments", o.total_segments);
  ScanRequest shaping = o.request;  // what the rows hold: not the run's segment, nor what is only reported
  shaping.table_name = o.table;
  shaping.segment.reset();
  shaping.total_segments.reset();
  shaping.return_consumed_capacity.clear();
  auto body = build_scan_body(shaping);
  w.raw("scan", body ? *body : "{}");
  w.close();
  return out;
}

std::string checkpoint_json(const Checkpoint& c, const ScanOptions& o, std::string_view options_json,
                            std::string_view fingerprint) {
  std::string out;
  out.reserve(512 + c.done.files.size() * 200);
  JsonObjectWriter w(out);
  w.string("version", kVersion);
  w.string("runId", o.run_id);
  w.number("segment", static_cast<uint64_t>(c.done.segment));
  w.number("totalSegments", static_cast<uint64_t>(o.total_segments));
  w.raw("finished", c.finished ? "true" : "false");
  w.string("startTime", c.start_time);
  w.raw("exclusiveStartKey", c.exclusive_start_key.empty() ? "null" : c.exclusive_start_key);
  w.number("nextFileIndex", static_cast<uint64_t>(c.next_file_index));
  w.number("itemCount", c.done.items);
  w.number("scannedCount", c.done.scanned);
  w.number("scanBytes", c.done.scan_bytes);
  w.number("pages", c.done.pages);
  w.number("consumedReadCapacityUnits", c.done.consumed_rcu);
  w.string("optionsFingerprint", fingerprint);
  w.raw("options", options_json);
  w.array("files", c.done.files,
          [](std::string& s, const DataFile& f) { append_data_file_json(s, f, true); });
  w.close();
  out += '\n';
  return out;
}

Checkpoints::Checkpoints(Sink& sink, const ScanOptions& o, std::string options_json, std::string start_time)
    : sink_(sink),
      options_(o),
      options_json_(std::move(options_json)),
      fingerprint_(sha256_hex(options_json_)),
      start_time_(std::move(start_time)) {}

Result<std::unique_ptr<Checkpoints>> Checkpoints::open(Sink& sink, const ScanOptions& o,
                                                       const std::vector<int>& segments,
                                                       std::string start_time) {
  auto cps = std::make_unique<Checkpoints>(sink, o, output_options_json(o), std::move(start_time));
  const std::string folder = o.dest.key(o.run_id + "/checkpoints/");
  DDB2S3_ASSIGN_OR_RETURN(auto keys, sink.list(folder));
  if (keys.empty()) return cps;
  std::set<std::string> wanted;
  for (int s : segments) wanted.insert(o.dest.key(o.run_id + "/" + checkpoint_name(s)));
  // Resuming, the options are compared with every checkpoint of the segments that run here and, when none of
  // those has one yet, with one of the others (the run's options are the same in all): otherwise a resume
  // with fewer segments, whose own segments had no checkpoint yet, would start over under other options.
  bool compared = false;
  for (int pass = 0; pass < 2 && o.resume; ++pass) {
    for (const std::string& key : keys) {
      const bool own = wanted.count(key) != 0;
      if (own != (pass == 0)) continue;
      DDB2S3_ASSIGN_OR_RETURN(auto text, sink.get(key));
      // A cut object is no checkpoint: S3 never stores one, but a store that is not atomic (s3rver) can, when
      // its writer is killed. Its segment starts again from its beginning; the output is exact either way.
      if (!text || !parse_json_arg(*text, key)) continue;
      std::string options_json, fingerprint;
      const std::string where = sink.describe(key);
      DDB2S3_ASSIGN_OR_RETURN(Checkpoint c, parse_checkpoint(*text, where, options_json, fingerprint));
      if (fingerprint != cps->fingerprint_)
        return differing_option(options_json, cps->options_json_, where, o.run_id);
      compared = true;
      if (!own) break;  // one other segment's checkpoint says what the run's options are
      if (key != o.dest.key(o.run_id + "/" + checkpoint_name(c.done.segment)))
        return invalid(where, "it is the checkpoint of segment " + std::to_string(c.done.segment));
      if (!c.start_time.empty() && c.start_time < cps->start_time_) cps->start_time_ = c.start_time;
      cps->read_.emplace(c.done.segment, std::move(c));
    }
    if (compared) break;
  }
  if (!o.resume)
    for (const std::string& key : keys)
      if (wanted.count(key) != 0) DDB2S3_RETURN_IF_ERROR(sink.remove(key));
  return cps;
}

const Checkpoint* Checkpoints::find(int segment) const {
  auto it = read_.find(segment);
  return it == read_.end() ? nullptr : &it->second;
}

Status Checkpoints::record(int segment, const std::vector<DataFile>& files, const SegmentPosition& at) const {
  if (!options_.checkpoints) return {};
  Checkpoint c;
  c.done.segment = segment;
  c.done.items = at.items;
  c.done.scanned = at.scanned;
  c.done.scan_bytes = at.scan_bytes;
  c.done.pages = at.pages;
  c.done.consumed_rcu = at.consumed_rcu;
  c.exclusive_start_key = at.exclusive_start_key;
  c.next_file_index = at.next_file_index;
  c.finished = at.finished;
  c.start_time = start_time_;
  c.done.files.assign(files.begin(),
                      files.begin() + static_cast<std::ptrdiff_t>(std::min(at.files, files.size())));
  const std::string key = options_.dest.key(options_.run_id + "/" + checkpoint_name(segment));
  DDB2S3_RETURN_IF_ERROR(
      sink_.put(key, checkpoint_json(c, options_, options_json_, fingerprint_), "application/json"));
  return {};
}

Status remove_orphans(Sink& sink, const Destination& dest, const std::string& run_id,
                      std::string_view name_prefix, const std::vector<DataFile>& keep) {
  const std::string prefix = dest.key(run_id + "/" + std::string(name_prefix));
  std::set<std::string> kept;
  for (const DataFile& f : keep) kept.insert(f.object.key);
  DDB2S3_ASSIGN_OR_RETURN(auto finished, sink.list(prefix));
  DDB2S3_ASSIGN_OR_RETURN(auto unfinished, sink.list_unfinished(prefix));
  // A kept file's .partial is left alone: removing it would remove the kept file too, and no attempt of
  // this run writes a kept file again.
  for (const auto* keys : {&finished, &unfinished}) {
    for (const std::string& key : *keys) {
      if (kept.count(key) == 0) DDB2S3_RETURN_IF_ERROR(sink.remove(key));
    }
  }
  return {};
}

Result<RunRecord> completed_run(std::string_view summary_json, std::string_view key) {
  auto bad = [&](std::string why) {
    Error e = Error::make(ErrorKind::kClient, "InvalidManifest",
                          "manifest '" + std::string(key) + "' is not valid: " + why);
    e.resource = std::string(key);
    return e;
  };
  auto root = parse_json_arg(summary_json, key);
  if (!root) return bad(root.error().message);
  if (!root->is(Kind::kObject)) return bad("not a JSON object");
  RunRecord run;
  auto text = [&](std::string_view name, std::string& target) {
    if (const JsonValue* v = root->find(name); v != nullptr && v->is(Kind::kString)) target = v->string;
  };
  auto count = [&](std::string_view name, uint64_t& target) {
    if (const JsonValue* v = root->find(name); v != nullptr && v->is(Kind::kNumber)) {
      if (auto n = json_integer(*v, 0, INT64_MAX, name)) target = static_cast<uint64_t>(*n);
    }
  };
  text("runId", run.run_id);
  text("table", run.table);
  text("tableArn", run.table_arn);
  text("startTime", run.start_time);
  text("endTime", run.end_time);
  count("itemCount", run.item_count);
  count("scannedCount", run.scanned_count);
  uint64_t total = 1;
  count("totalSegments", total);
  run.total_segments = static_cast<int>(std::min<uint64_t>(total, INT_MAX));
  return run;
}

}  // namespace ddb2s3

// Merge of a snapshot and incremental exports into a new snapshot (see merge.h for the design's bounds).
#include "pitr/merge.h"

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "aws/session.h"
#include "base/json_writer.h"
#include "pitr/pitr.h"

namespace ddb2s3 {
namespace {

constexpr std::string_view kSummary = "manifest-summary.json";
constexpr std::string_view kFiles = "manifest-files.json";
constexpr size_t kWriteChunk = 1u << 20;

void write_canonical(simdjson::dom::element e, std::string& out) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (e.get_object().get(object)) break;
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      for (auto field : object) members.emplace_back(field.key, field.value);
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, members[i].first);
        out += ':';
        write_canonical(members[i].second, out);
      }
      out += '}';
      break;
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      if (e.get_array().get(array)) break;
      out += '[';
      bool first = true;
      for (auto v : array) {
        if (!first) out += ',';
        first = false;
        write_canonical(v, out);
      }
      out += ']';
      break;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (!e.get_string().get(s)) append_json_string(out, s);
      break;
    }
    default:  // true, false, null (DynamoDB JSON carries numbers as strings: "N":"...")
      out += simdjson::minify(e);
  }
}

std::string canonical(simdjson::dom::element e) {
  std::string out;
  write_canonical(e, out);
  return out;
}

// One location: a sink and the folder's key prefix inside it.
struct Location {
  std::string text;  // as given (for messages)
  Destination dest;
  std::unique_ptr<Sink> sink;
};

Result<Location> open_location(const std::string& given, std::string_view field, const MergeOptions& o) {
  std::string text = given;
  if (text.size() > kSummary.size() && text.ends_with(kSummary) &&
      text[text.size() - kSummary.size() - 1] == '/')
    text.resize(text.size() - kSummary.size() - 1);
  auto dest = Destination::parse(text);
  if (!dest) return std::move(dest).error().with_field(std::string(field));
  Location loc{given, *dest, nullptr};
  if (!loc.dest.is_s3) {
    loc.sink = make_directory_sink(loc.dest);
  } else {
    DDB2S3_ASSIGN_OR_RETURN(auto config, make_service_config("s3", o.s3, o.env, o.session));
    DDB2S3_ASSIGN_OR_RETURN(loc.sink, make_s3_sink(config, loc.dest));
  }
  return loc;
}

// The data files of an export (or a merge's output), from its manifest-files.json, with their sizes.
struct DataFile {
  std::string key;
  uint64_t size = 0;
};

Result<std::vector<DataFile>> data_files(Location& loc, simdjson::dom::parser& parser) {
  const std::string manifest_key = loc.dest.key(kFiles);
  DDB2S3_ASSIGN_OR_RETURN(auto manifest, loc.sink->get(manifest_key));
  if (!manifest) {
    Error e = Error::make(ErrorKind::kClient, "NoManifest",
                          "no " + std::string(kFiles) + " at " + loc.sink->describe(manifest_key));
    e.hint = "give an export's folder (PREFIX/AWSDynamoDB/<ExportId>) or a merge's --to";
    return e;
  }
  DDB2S3_ASSIGN_OR_RETURN(auto listed, loc.sink->list_objects(loc.dest.key("data/")));
  std::map<std::string, uint64_t> sizes;
  for (const auto& o : listed) sizes[o.key] = o.size;
  std::vector<DataFile> files;
  size_t begin = 0;
  while (begin < manifest->size()) {
    size_t end = manifest->find('\n', begin);
    if (end == std::string::npos) end = manifest->size();
    std::string_view line(manifest->data() + begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    simdjson::dom::element doc;
    std::string_view key;
    if (parser.parse(line.data(), line.size()).get(doc) || doc["dataFileS3Key"].get_string().get(key))
      return Error::make(ErrorKind::kClient, "BadManifest",
                         "a line of " + loc.sink->describe(manifest_key) + " has no dataFileS3Key");
    // A local directory holds the keys relative to itself: the S3 key's tail under the folder.
    std::string stored(key);
    if (!loc.dest.is_s3) {
      const auto at = stored.find("data/");
      if (at != std::string::npos && !sizes.count(stored)) stored = loc.dest.key(stored.substr(at));
    }
    auto it = sizes.find(stored);
    if (it == sizes.end())
      return Error::make(ErrorKind::kClient, "MissingDataFile",
                         loc.sink->describe(stored) + " is in " + std::string(kFiles) + " but not stored");
    files.push_back({stored, it->second});
  }
  return files;
}

struct Inflater {
  z_stream z{};
  bool ok = false;
  Inflater() { ok = inflateInit2(&z, 15 + 32) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&z);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

// Buffers that for_each_line keeps from one call to the next (one set per merge), so that reading a file
// neither grows nor frees them again: the compressed read, zlib's output and the unfinished line between
// two of them.
struct LineBuffers {
  Inflater inflater;
  std::string chunk, out, tail;
};

// Calls on_line for every line of a data file (gzip, any number of members, or plain when not .gz),
// reading read_size bytes at a time. on_line sets stop to end early. Lines are handed out from each
// inflate step's output (or each plain read) as they are cut; only a line split between two of them is
// copied (into buffers.tail).
using LineFn = std::function<Status(std::string_view line, bool& stop)>;

Status for_each_line(Sink& sink, const DataFile& file, uint64_t read_size, LineBuffers& buffers,
                     const LineFn& on_line) {
  const bool gz = file.key.ends_with(".gz");
  Inflater& inflater = buffers.inflater;
  if (gz && !inflater.ok) return Error::internal("zlib inflateInit2 failed");
  if (gz) inflateReset(&inflater.z);  // the last call may have stopped inside a member
  std::string& chunk = buffers.chunk;
  std::string& out = buffers.out;
  std::string& tail = buffers.tail;
  if (out.size() != (256u << 10)) out.assign(256u << 10, '\0');
  tail.clear();
  bool stop = false, in_member = false;
  // The lines of the next piece of text; its last, unfinished line waits in tail for the next piece.
  auto emit_lines = [&](std::string_view text) -> Status {
    size_t begin = 0;
    if (!tail.empty()) {
      const size_t nl = text.find('\n');
      if (nl == std::string_view::npos) {
        tail.append(text);
        return {};
      }
      tail.append(text.data(), nl);
      DDB2S3_RETURN_IF_ERROR(on_line(tail, stop));
      tail.clear();
      begin = nl + 1;
    }
    for (size_t nl; !stop && (nl = text.find('\n', begin)) != std::string_view::npos; begin = nl + 1) {
      std::string_view line(text.data() + begin, nl - begin);
      if (!line.empty()) DDB2S3_RETURN_IF_ERROR(on_line(line, stop));
    }
    if (!stop) tail.assign(text.data() + begin, text.size() - begin);
    return {};
  };
  for (uint64_t offset = 0; offset < file.size && !stop; offset += chunk.size()) {
    DDB2S3_RETURN_IF_ERROR(sink.read(file.key, offset, std::min(read_size, file.size - offset), chunk));
    if (chunk.empty())
      return Error::make(ErrorKind::kClient, "ShortRead", sink.describe(file.key) + " ended early");
    if (!gz) {
      DDB2S3_RETURN_IF_ERROR(emit_lines(chunk));
      continue;
    }
    z_stream& z = inflater.z;
    z.next_in = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_in = static_cast<uInt>(chunk.size());
    // Until the chunk is used up and zlib holds no output back (a full out buffer may leave some).
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member = false;
        inflateReset(&z);  // another gzip member may follow
      } else if (rc == Z_OK) {
        in_member = true;
      } else if (rc != Z_BUF_ERROR) {
        return Error::make(ErrorKind::kClient, "BadGzip", sink.describe(file.key) + " is not valid gzip");
      }
      DDB2S3_RETURN_IF_ERROR(emit_lines(std::string_view(out.data(), out.size() - z.avail_out)));
      if (rc == Z_BUF_ERROR) break;  // no progress possible without more input
    } while (!stop && (z.avail_in > 0 || z.avail_out == 0));
  }
  if (in_member && !stop)
    return Error::make(ErrorKind::kClient, "BadGzip", sink.describe(file.key) + " ends inside a gzip member");
  if (!stop && !tail.empty()) DDB2S3_RETURN_IF_ERROR(on_line(tail, stop));
  tail.clear();
  return {};
}

// A data file of the new snapshot, as its manifest line records it.
struct WrittenFile {
  StoredObject object;
  int64_t items = 0;
};

// The new snapshot's data files: lines deflated (gzip) into objects of about file_size uncompressed bytes.
// zlib level 3, not the default 6: on bench/merge-figures --quick (0.2 GB of item lines, 10% changes, CPU-s
// of the whole merge at K=1 / 4 / 16) level 6 took 5.3 / 7.3 / 18.6 s for 43.4 MB of gzip, level 3 3.6 / 5.8 /
// 14.4 s for 47.8 MB (+10%), level 1 3.4 / 5.5 / 14.7 s for 52.4 MB (+21%). Deflate alone on these lines
// (one 40 MB stream): ~15-16 CPU-s/GB at level 6, ~7 at levels 1 to 3.
constexpr int kSnapshotLevel = 3;

class SnapshotWriter {
 public:
  SnapshotWriter(Location& to, uint64_t file_size) : to_(to), file_size_(file_size) {}
  ~SnapshotWriter() { end_deflate(); }
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  Status add(std::string_view line, int partition) {
    if (!writer_ || partition != partition_) {
      DDB2S3_RETURN_IF_ERROR(finish_file());
      partition_ = partition;
      char name[64];
      std::snprintf(name, sizeof name, "data/p%04d-%05d.json.gz", partition, ++file_number_);
      key_ = to_.dest.key(name);
      DDB2S3_ASSIGN_OR_RETURN(writer_, to_.sink->open(key_));
      if (deflateInit2(&z_, kSnapshotLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Error::internal("zlib deflateInit2 failed");
      deflating_ = true;
    }
    DDB2S3_RETURN_IF_ERROR(deflate_some(line, Z_NO_FLUSH));
    DDB2S3_RETURN_IF_ERROR(deflate_some("\n", Z_NO_FLUSH));
    ++items_;
    ++file_items_;
    raw_bytes_ += line.size() + 1;
    if (raw_bytes_ >= file_size_) return finish_file();
    return {};
  }

  Status finish_file() {
    if (!writer_) return {};
    DDB2S3_RETURN_IF_ERROR(deflate_some({}, Z_FINISH));
    end_deflate();
    if (!buffer_.empty()) DDB2S3_RETURN_IF_ERROR(writer_->write(buffer_));
    buffer_.clear();
    DDB2S3_ASSIGN_OR_RETURN(auto stored, writer_->finish());
    writer_.reset();
    files_.push_back({std::move(stored), file_items_});
    file_items_ = 0;
    raw_bytes_ = 0;
    return {};
  }

  int64_t items() const { return items_; }
  const std::vector<WrittenFile>& files() const { return files_; }

 private:
  Status deflate_some(std::string_view in, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char out[64 << 10];
    int rc = Z_OK;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out);
      z_.avail_out = sizeof out;
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Error::internal("zlib deflate failed");
      buffer_.append(out, sizeof out - z_.avail_out);
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    if (buffer_.size() >= kWriteChunk) {
      DDB2S3_RETURN_IF_ERROR(writer_->write(buffer_));
      buffer_.clear();
    }
    return {};
  }
  void end_deflate() {
    if (deflating_) deflateEnd(&z_);
    deflating_ = false;
  }

  Location& to_;
  uint64_t file_size_;
  std::unique_ptr<ObjectWriter> writer_;
  z_stream z_{};
  bool deflating_ = false;
  std::string buffer_, key_;
  int partition_ = -1, file_number_ = 0;
  int64_t items_ = 0, file_items_ = 0;
  uint64_t raw_bytes_ = 0;
  std::vector<WrittenFile> files_;
};

// The latest change of one key.
struct Change {
  uint64_t micros = 0;
  size_t export_index = 0;
  std::optional<std::string> image;  // canonical NewImage; none: deleted
};

Error bad_line(const Location& loc, const DataFile& f, std::string what) {
  return Error::make(ErrorKind::kClient, "BadExportLine",
                     "a line of " + loc.sink->describe(f.key) + " " + what);
}

// The canonical key of a canonical-sorted projection of item onto names; nullopt when one is missing.
std::optional<std::string> item_key(simdjson::dom::element item, const std::vector<std::string>& names) {
  std::string key = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    simdjson::dom::element v;
    if (item[names[i]].get(v)) return std::nullopt;
    if (i > 0) key += ',';
    append_json_string(key, names[i]);
    key += ':';
    write_canonical(v, key);
  }
  return key + "}";
}

// What a snapshot's manifests say: manifest-files.json's lines and manifest-summary.json's fields. One
// writer for the single-process merge and for finalize_merge(), so that their snapshots cannot differ.
struct SnapshotManifests {
  std::vector<WrittenFile> files;  // partition order
  double start_seconds = 0;
  std::string base;
  std::vector<std::string> incrementals;
  int partitions = 0;  // as hashed (1: a merge without changes copies the snapshot in one pass)
  int64_t items = 0, changed_keys = 0, deleted_keys = 0;
};

// Writes manifest-files.json, then manifest-summary.json (its presence says the snapshot is complete);
// returns the summary's key.
Result<std::string> write_snapshot_manifests(Location& to, const SnapshotManifests& m) {
  std::string lines;
  for (const auto& f : m.files) {
    lines += "{\"itemCount\":" + std::to_string(f.items) + ",\"md5Checksum\":";
    append_json_string(lines, f.object.md5_base64);
    lines += ",\"etag\":";
    append_json_string(lines, f.object.etag);
    lines += ",\"dataFileS3Key\":";
    append_json_string(lines, f.object.key);
    lines += ",\"size\":" + std::to_string(f.object.size) + "}\n";
  }
  const std::string files_key = to.dest.key(kFiles);
  DDB2S3_RETURN_IF_ERROR(to.sink->put(files_key, lines, "application/json"));
  const double end_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string summary =
      "{\"version\":\"2020-06-30\",\"exportType\":\"FULL_EXPORT\",\"outputFormat\":\"DYNAMODB_JSON\"";
  summary += ",\"startTime\":";
  append_json_string(summary, format_time(m.start_seconds));
  summary += ",\"endTime\":";
  append_json_string(summary, format_time(end_s));
  if (to.dest.is_s3) {
    summary += ",\"s3Bucket\":";
    append_json_string(summary, to.dest.bucket);
    summary += ",\"s3Prefix\":";
    append_json_string(summary, to.dest.prefix);
  }
  summary += ",\"manifestFilesS3Key\":";
  append_json_string(summary, files_key);
  summary += ",\"itemCount\":" + std::to_string(m.items);
  // Also the fields of a scan's summary that `ddb2s3 verify DEST --run-id FOLDER` reads: a snapshot is
  // checked as a run whose id is its folder's name.
  const std::string folder = to.dest.is_s3 ? to.dest.prefix : to.dest.directory;
  summary += ",\"runId\":";
  append_json_string(summary, folder.substr(folder.find_last_of('/') + 1));
  summary += ",\"compression\":\"gzip\",\"fileCount\":" + std::to_string(m.files.size());
  summary += ",\"mergedFrom\":{\"base\":";
  append_json_string(summary, m.base);
  summary += ",\"incrementals\":";
  append_json_array(summary, m.incrementals,
                    [](std::string& s, const std::string& t) { append_json_string(s, t); });
  summary += "},\"partitions\":" + std::to_string(m.partitions);
  summary += ",\"changedKeys\":" + std::to_string(m.changed_keys);
  summary += ",\"deletedKeys\":" + std::to_string(m.deleted_keys) + "}\n";
  const std::string summary_key = to.dest.key(kSummary);
  DDB2S3_RETURN_IF_ERROR(to.sink->put(summary_key, summary, "application/json"));
  return summary_key;
}

// TO/partitions/pPPPP.json: what one partition's run wrote and merged, for finalize_merge() to check and
// gather. Its presence says the partition is done.
struct PartitionManifest {
  int partition = -1;
  int partitions = 0;  // K, as given
  int hashed = 0;      // as hashed: K, or 1 for a merge without changes (partition 0 copies the snapshot)
  std::string base;
  std::vector<std::string> incrementals, key;
  double start_seconds = 0;
  int64_t items = 0, base_items = 0, change_records = 0, changed_keys = 0, deleted_keys = 0;
  std::vector<WrittenFile> files;
};

std::string partition_manifest_key(const Location& to, int partition) {
  char name[48];
  std::snprintf(name, sizeof name, "partitions/p%04d.json", partition);
  return to.dest.key(name);
}

std::string partition_manifest_json(const PartitionManifest& m) {
  auto strings = [](std::string& s, const std::string& t) { append_json_string(s, t); };
  std::string out;
  JsonObjectWriter w(out);
  w.number("partition", m.partition);
  w.number("partitions", m.partitions);
  w.number("hashedPartitions", m.hashed);
  w.string("base", m.base);
  w.array("incrementals", m.incrementals, strings);
  w.array("key", m.key, strings);
  char start[32];
  std::snprintf(start, sizeof start, "%.6f", m.start_seconds);
  w.raw("startEpochSeconds", start);
  w.number("itemCount", m.items);
  w.number("baseItems", m.base_items);
  w.number("changeRecords", m.change_records);
  w.number("changedKeys", m.changed_keys);
  w.number("deletedKeys", m.deleted_keys);
  w.array("files", m.files, [](std::string& s, const WrittenFile& f) {
    JsonObjectWriter file(s);
    file.number("itemCount", f.items);
    file.string("md5Checksum", f.object.md5_base64);
    file.string("etag", f.object.etag);
    file.string("dataFileS3Key", f.object.key);
    file.number("size", f.object.size);
    file.close();
  });
  w.close();
  return out + "\n";
}

Result<PartitionManifest> parse_partition_manifest(std::string_view text, const std::string& where,
                                                   simdjson::dom::parser& parser) {
  auto bad = [&](std::string what) {
    return Error::make(ErrorKind::kClient, "BadPartitionManifest", where + " " + what);
  };
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) || !doc.is_object()) return bad("is not a JSON object");
  PartitionManifest m;
  auto integer = [&](const char* name, auto& target) -> Status {
    int64_t n = 0;
    if (doc[name].get_int64().get(n)) return bad(std::string("has no integer ") + name);
    target = static_cast<std::remove_reference_t<decltype(target)>>(n);
    return {};
  };
  auto strings = [&](const char* name, std::vector<std::string>& target) -> Status {
    simdjson::dom::array array;
    if (doc[name].get_array().get(array)) return bad(std::string("has no array ") + name);
    for (auto v : array) {
      std::string_view s;
      if (v.get_string().get(s)) return bad(std::string("has a non-string in ") + name);
      target.emplace_back(s);
    }
    return {};
  };
  DDB2S3_RETURN_IF_ERROR(integer("partition", m.partition));
  DDB2S3_RETURN_IF_ERROR(integer("partitions", m.partitions));
  DDB2S3_RETURN_IF_ERROR(integer("hashedPartitions", m.hashed));
  std::string_view base;
  if (doc["base"].get_string().get(base)) return bad("has no base");
  m.base = base;
  DDB2S3_RETURN_IF_ERROR(strings("incrementals", m.incrementals));
  DDB2S3_RETURN_IF_ERROR(strings("key", m.key));
  if (doc["startEpochSeconds"].get_double().get(m.start_seconds)) return bad("has no startEpochSeconds");
  DDB2S3_RETURN_IF_ERROR(integer("itemCount", m.items));
  DDB2S3_RETURN_IF_ERROR(integer("baseItems", m.base_items));
  DDB2S3_RETURN_IF_ERROR(integer("changeRecords", m.change_records));
  DDB2S3_RETURN_IF_ERROR(integer("changedKeys", m.changed_keys));
  DDB2S3_RETURN_IF_ERROR(integer("deletedKeys", m.deleted_keys));
  simdjson::dom::array files;
  if (doc["files"].get_array().get(files)) return bad("has no files");
  for (auto f : files) {
    WrittenFile file;
    std::string_view md5, etag, key;
    uint64_t size = 0;
    if (f["itemCount"].get_int64().get(file.items) || f["md5Checksum"].get_string().get(md5) ||
        f["etag"].get_string().get(etag) || f["dataFileS3Key"].get_string().get(key) ||
        f["size"].get_uint64().get(size))
      return bad("has a file without itemCount, md5Checksum, etag, dataFileS3Key and size");
    file.object = {std::string(key), size, std::string(md5), std::string(etag)};
    m.files.push_back(std::move(file));
  }
  return m;
}

MergeOutcome outcome_of(const PartitionManifest& m) {
  MergeOutcome outcome;
  outcome.items = m.items;
  outcome.base_items = m.base_items;
  outcome.change_records = m.change_records;
  outcome.changed_keys = m.changed_keys;
  outcome.deleted_keys = m.deleted_keys;
  for (const auto& f : m.files) outcome.files.push_back(f.object);
  outcome.partitions = m.partitions;
  outcome.partition = m.partition;
  return outcome;
}

// "0-2, 5, 7-9": partition numbers (sorted) as ranges, so that 4096 missing ones stay one line.
std::string number_ranges(const std::vector<int>& numbers) {
  std::string out;
  for (size_t i = 0; i < numbers.size();) {
    size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(numbers[i]);
    if (j > i) out += "-" + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

Error snapshot_exists(const Location& to, const std::string& summary_key) {
  Error e = Error::make(ErrorKind::kClient, "SnapshotExists",
                        to.sink->describe(summary_key) + " exists: a snapshot is never overwritten");
  e.hint = "choose another --to";
  return e;
}

Status check_options(const MergeOptions& o) {
  if (o.to.empty()) return Error::usage("merge needs a destination").with_field("to");
  if (o.partitions < 1 || o.partitions > 4096)
    return Error::usage("partitions must be from 1 to 4096").with_field("partitions");
  if (o.partition < -1 || o.partition >= o.partitions)
    return Error::usage("partition must be from 0 to partitions - 1 (" + std::to_string(o.partitions - 1) +
                        "), or -1 for all of them, not " + std::to_string(o.partition))
        .with_field("partition");
  return {};
}

}  // namespace

Result<std::string> canonical_dynamodb_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(json.data(), json.size()).get(doc))
    return Error::make(ErrorKind::kClient, "BadJson", simdjson::error_message(e));
  return canonical(doc);
}

int key_partition(std::string_view canonical_key, int partitions) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : canonical_key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<uint64_t>(std::max(partitions, 1)));
}

Result<MergeOutcome> merge_exports(const MergeOptions& o) {
  if (o.base.empty()) return Error::usage("merge needs a base snapshot").with_field("base");
  DDB2S3_RETURN_IF_ERROR(check_options(o));
  if (o.file_size < 1) return Error::usage("file_size must be at least 1 byte").with_field("file_size");
  if (o.read_size < 1) return Error::usage("read_size must be at least 1 byte").with_field("read_size");
  const auto started = std::chrono::system_clock::now();
  const bool one_partition = o.partition >= 0;

  simdjson::dom::parser parser;
  DDB2S3_ASSIGN_OR_RETURN(Location to, open_location(o.to, "to", o));
  const std::string summary_key = to.dest.key(kSummary);
  const std::string manifest_key = one_partition ? partition_manifest_key(to, o.partition) : "";
  if (one_partition) {
    // Done already (a scheduler's retry, or a re-run of the whole array job): nothing to do, unless the
    // manifest is another merge's.
    DDB2S3_ASSIGN_OR_RETURN(auto done, to.sink->get(manifest_key));
    if (done) {
      DDB2S3_ASSIGN_OR_RETURN(auto m,
                              parse_partition_manifest(*done, to.sink->describe(manifest_key), parser));
      if (m.partitions != o.partitions || m.base != o.base || m.incrementals != o.incrementals) {
        Error e = Error::make(ErrorKind::kClient, "PartitionsDisagree",
                              to.sink->describe(manifest_key) + " is partition " +
                                  std::to_string(m.partition) + " of another merge (" +
                                  std::to_string(m.partitions) + " partitions of " + m.base + " and " +
                                  std::to_string(m.incrementals.size()) + " incremental exports)");
        e.hint = "give that merge's BASE, --incremental and --partitions, or choose another --to";
        return e;
      }
      MergeOutcome outcome = outcome_of(m);
      outcome.partition_manifest_key = manifest_key;
      outcome.already_done = true;
      return outcome;
    }
  }
  DDB2S3_ASSIGN_OR_RETURN(Location base, open_location(o.base, "base", o));
  DDB2S3_ASSIGN_OR_RETURN(auto base_files, data_files(base, parser));
  std::vector<Location> incs;
  std::vector<std::vector<DataFile>> inc_files;
  for (const auto& text : o.incrementals) {
    DDB2S3_ASSIGN_OR_RETURN(Location loc, open_location(text, "incrementals", o));
    DDB2S3_ASSIGN_OR_RETURN(auto files, data_files(loc, parser));
    incs.push_back(std::move(loc));
    inc_files.push_back(std::move(files));
  }
  DDB2S3_ASSIGN_OR_RETURN(auto existing, to.sink->get(summary_key));
  if (existing) return snapshot_exists(to, summary_key);
  if (one_partition) {
    // This partition's files without its manifest: an attempt that failed. Other partitions' files are
    // other processes' (running or done) and stay.
    char own[32];
    std::snprintf(own, sizeof own, "data/p%04d-", o.partition);
    DDB2S3_ASSIGN_OR_RETURN(auto leftovers, to.sink->list_objects(to.dest.key(own)));
    for (const auto& object : leftovers) DDB2S3_RETURN_IF_ERROR(to.sink->remove(object.key));
  } else {
    // Data files without a summary: a merge that failed; mixing them with new ones would corrupt data/.
    DDB2S3_ASSIGN_OR_RETURN(auto leftovers, to.sink->list_objects(to.dest.key("data/")));
    if (!leftovers.empty()) {
      Error e =
          Error::make(ErrorKind::kClient, "UnfinishedSnapshot",
                      to.sink->describe(to.dest.key("data/")) + " holds " + std::to_string(leftovers.size()) +
                          " objects but no " + std::string(kSummary) + " (a merge that did not finish)");
      e.hint = "remove them or choose another --to";
      return e;
    }
  }

  // The key's attribute names: given, or those of the first change record's Keys.
  LineBuffers buffers;  // for_each_line's, reused by every file of this merge
  std::vector<std::string> names = o.key_attributes;
  bool any_change = false;
  for (size_t i = 0; i < incs.size() && !any_change; ++i) {
    for (const auto& f : inc_files[i]) {
      DDB2S3_RETURN_IF_ERROR(for_each_line(
          *incs[i].sink, f, o.read_size, buffers, [&](std::string_view line, bool& stop) -> Status {
            simdjson::dom::element doc;
            simdjson::dom::object keys;
            if (parser.parse(line.data(), line.size()).get(doc) || doc["Keys"].get_object().get(keys))
              return bad_line(incs[i], f, "is not a change record with Keys");
            if (names.empty())
              for (auto field : keys) names.emplace_back(field.key);
            any_change = stop = true;
            return {};
          }));
      if (any_change) break;
    }
  }
  std::sort(names.begin(), names.end());
  // Without any change the snapshot is copied as it is: one pass is enough (partition 0's, when the
  // partitions run apart; the others write nothing).
  const int partitions = any_change ? o.partitions : 1;
  const int first = one_partition ? o.partition : 0;
  const int last = one_partition ? std::min(o.partition, partitions - 1) : partitions - 1;

  MergeOutcome outcome;
  SnapshotWriter out(to, o.file_size);
  std::unordered_map<std::string, Change> changes;
  for (int p = first; p <= last; ++p) {
    changes.clear();
    for (size_t i = 0; i < incs.size(); ++i) {
      for (const auto& f : inc_files[i]) {
        DDB2S3_RETURN_IF_ERROR(for_each_line(
            *incs[i].sink, f, o.read_size, buffers, [&](std::string_view line, bool&) -> Status {
              simdjson::dom::element doc, keys, image;
              std::string_view micros_text;
              if (parser.parse(line.data(), line.size()).get(doc) || doc["Keys"].get(keys) ||
                  !keys.is_object() ||
                  doc["Metadata"]["WriteTimestampMicros"]["N"].get_string().get(micros_text))
                return bad_line(incs[i], f, "has no Keys or Metadata.WriteTimestampMicros");
              if (p == first) ++outcome.change_records;
              std::string key = canonical(keys);
              if (key_partition(key, partitions) != p) return {};
              uint64_t micros = 0;
              for (char c : micros_text) {
                if (c < '0' || c > '9')
                  return bad_line(incs[i], f, "has a WriteTimestampMicros that is not an integer");
                micros = micros * 10 + static_cast<uint64_t>(c - '0');
              }
              auto [it, fresh] = changes.try_emplace(std::move(key));
              Change& c = it->second;
              if (!fresh && (micros < c.micros || (micros == c.micros && i < c.export_index))) return {};
              c.micros = micros;
              c.export_index = i;
              if (doc["NewImage"].get(image))
                c.image.reset();
              else
                c.image = canonical(image);
              return {};
            }));
      }
    }
    for (const auto& f : base_files) {
      DDB2S3_RETURN_IF_ERROR(
          for_each_line(*base.sink, f, o.read_size, buffers, [&](std::string_view line, bool&) -> Status {
            simdjson::dom::element doc, item;
            if (parser.parse(line.data(), line.size()).get(doc) || doc["Item"].get(item) || !item.is_object())
              return bad_line(base, f, "is not an {\"Item\":...} line");
            if (!any_change) {
              ++outcome.base_items;
              return out.add(line, 0);
            }
            auto key = item_key(item, names);
            if (!key) return bad_line(base, f, "has an item without the key attributes");
            if (key_partition(*key, partitions) != p) return {};
            ++outcome.base_items;
            if (changes.count(*key)) return {};  // replaced or deleted by a change
            return out.add("{\"Item\":" + canonical(item) + "}", p);
          }));
    }
    for (const auto& [key, change] : changes) {
      ++outcome.changed_keys;
      if (!change.image) {
        ++outcome.deleted_keys;
        continue;
      }
      DDB2S3_RETURN_IF_ERROR(out.add("{\"Item\":" + *change.image + "}", p));
    }
  }
  DDB2S3_RETURN_IF_ERROR(out.finish_file());
  outcome.items = out.items();
  outcome.partitions = o.partitions;
  outcome.partition = o.partition;
  for (const auto& f : out.files()) outcome.files.push_back(f.object);
  const double start_s = std::chrono::duration<double>(started.time_since_epoch()).count();

  if (one_partition) {
    PartitionManifest m;
    m.partition = o.partition;
    m.partitions = o.partitions;
    m.hashed = partitions;
    m.base = o.base;
    m.incrementals = o.incrementals;
    m.key = names;
    m.start_seconds = start_s;
    m.items = outcome.items;
    m.base_items = outcome.base_items;
    m.change_records = outcome.change_records;
    m.changed_keys = outcome.changed_keys;
    m.deleted_keys = outcome.deleted_keys;
    m.files = out.files();
    // Written last: its presence says the partition's data files are all there.
    DDB2S3_RETURN_IF_ERROR(to.sink->put(manifest_key, partition_manifest_json(m), "application/json"));
    outcome.partition_manifest_key = manifest_key;
    return outcome;
  }
  SnapshotManifests manifests;
  manifests.files = out.files();
  manifests.start_seconds = start_s;
  manifests.base = o.base;
  manifests.incrementals = o.incrementals;
  manifests.partitions = partitions;
  manifests.items = outcome.items;
  manifests.changed_keys = outcome.changed_keys;
  manifests.deleted_keys = outcome.deleted_keys;
  DDB2S3_ASSIGN_OR_RETURN(outcome.summary_key, write_snapshot_manifests(to, manifests));
  return outcome;
}

Result<MergeOutcome> finalize_merge(const MergeOptions& o) {
  DDB2S3_RETURN_IF_ERROR(check_options(o));
  if (o.partition != -1)
    return Error::usage("finalize gathers every partition: partition must be -1, not " +
                        std::to_string(o.partition))
        .with_field("partition");
  simdjson::dom::parser parser;
  DDB2S3_ASSIGN_OR_RETURN(Location to, open_location(o.to, "to", o));
  const std::string summary_key = to.dest.key(kSummary);
  DDB2S3_ASSIGN_OR_RETURN(auto existing, to.sink->get(summary_key));
  if (existing) return snapshot_exists(to, summary_key);

  std::vector<PartitionManifest> manifests;
  std::vector<int> missing;
  for (int p = 0; p < o.partitions; ++p) {
    const std::string key = partition_manifest_key(to, p);
    DDB2S3_ASSIGN_OR_RETURN(auto text, to.sink->get(key));
    if (!text) {
      missing.push_back(p);
      continue;
    }
    DDB2S3_ASSIGN_OR_RETURN(auto m, parse_partition_manifest(*text, to.sink->describe(key), parser));
    // Every partition must have merged the same inputs the same way, or the snapshot would mix two merges.
    const PartitionManifest& ref = manifests.empty() ? m : manifests.front();
    const std::string rerun =
        "remove the manifest and data files (data/pPPPP-*) of the partition that ran with other options and "
        "run it again with the others' BASE, --incremental, --key and --partitions";
    std::string differs, hint = rerun;
    if (m.partition != p) {
      differs = "says it is partition " + std::to_string(m.partition);
    } else if (m.partitions != o.partitions) {
      differs = "was merged with " + std::to_string(m.partitions) + " partitions, not " +
                std::to_string(o.partitions);
      hint = "finalize with the --partitions the partitions ran with; or " + rerun;
    } else if (!o.base.empty() && (m.base != o.base || m.incrementals != o.incrementals)) {
      differs = "merged other exports (" + m.base + " and " + std::to_string(m.incrementals.size()) +
                " incremental exports) than the ones given";
      hint = "give --finalize the BASE and --incremental the partitions merged, or neither";
    } else if (m.base != ref.base || m.incrementals != ref.incrementals) {
      differs = "merged other exports than partition " + std::to_string(ref.partition);
    } else if (m.key != ref.key || m.hashed != ref.hashed) {
      differs = "hashed other key attributes than partition " + std::to_string(ref.partition);
    } else if (m.change_records != ref.change_records) {
      differs = "read " + std::to_string(m.change_records) + " change records, partition " +
                std::to_string(ref.partition) + " " + std::to_string(ref.change_records) +
                " (the incremental exports changed between the runs)";
    }
    if (!differs.empty()) {
      Error e = Error::make(ErrorKind::kClient, "PartitionsDisagree", to.sink->describe(key) + " " + differs);
      e.hint = std::move(hint);
      return e;
    }
    manifests.push_back(std::move(m));
  }
  if (!missing.empty()) {
    Error e =
        Error::make(ErrorKind::kClient, "PartitionsMissing",
                    std::to_string(missing.size()) + " of " + std::to_string(o.partitions) +
                        " partitions are not done (no " + to.sink->describe(to.dest.key("partitions/")) +
                        "pPPPP.json): " + number_ranges(missing));
    e.hint = "run `ddb2s3 merge BASE --incremental ... --to " + o.to + " --partitions " +
             std::to_string(o.partitions) + " --partition I` for each (I = " + number_ranges(missing) +
             "), then --finalize again";
    return e;
  }

  // data/ must hold exactly the partitions' files: a stray one (an attempt with other options) would be
  // read by whatever reads the folder, a missing one lose items.
  DDB2S3_ASSIGN_OR_RETURN(auto listed, to.sink->list_objects(to.dest.key("data/")));
  std::map<std::string, uint64_t> stored;
  for (const auto& object : listed) stored[object.key] = object.size;
  SnapshotManifests snapshot;
  snapshot.start_seconds = manifests.front().start_seconds;
  snapshot.base = manifests.front().base;
  snapshot.incrementals = manifests.front().incrementals;
  snapshot.partitions = manifests.front().hashed;
  MergeOutcome outcome;
  outcome.change_records = manifests.front().change_records;
  for (const auto& m : manifests) {
    snapshot.start_seconds = std::min(snapshot.start_seconds, m.start_seconds);
    outcome.items += m.items;
    outcome.base_items += m.base_items;
    outcome.changed_keys += m.changed_keys;
    outcome.deleted_keys += m.deleted_keys;
    for (const auto& f : m.files) {
      auto it = stored.find(f.object.key);
      if (it == stored.end() || it->second != f.object.size)
        return Error::make(ErrorKind::kClient, "MissingDataFile",
                           to.sink->describe(f.object.key) + " is in partition " +
                               std::to_string(m.partition) + "'s manifest but " +
                               (it == stored.end() ? std::string("not stored")
                                                   : "stored with " + std::to_string(it->second) +
                                                         " bytes, not " + std::to_string(f.object.size)));
      stored.erase(it);
      snapshot.files.push_back(f);
      outcome.files.push_back(f.object);
    }
  }
  if (!stored.empty()) {
    Error e = Error::make(
        ErrorKind::kClient, "UnlistedDataFile",
        std::to_string(stored.size()) + " objects under " + to.sink->describe(to.dest.key("data/")) +
            " are in no partition's manifest, the first " + to.sink->describe(stored.begin()->first));
    e.hint = "remove them (an attempt with other options left them) and --finalize again";
    return e;
  }
  snapshot.items = outcome.items;
  snapshot.changed_keys = outcome.changed_keys;
  snapshot.deleted_keys = outcome.deleted_keys;
  DDB2S3_ASSIGN_OR_RETURN(outcome.summary_key, write_snapshot_manifests(to, snapshot));
  outcome.partitions = o.partitions;
  return outcome;
}

}  // namespace ddb2s3

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

// Calls on_line for every line of a data file (gzip, any number of members, or plain when not .gz),
// reading read_size bytes at a time. on_line sets stop to end early.
using LineFn = std::function<Status(std::string_view line, bool& stop)>;

Status for_each_line(Sink& sink, const DataFile& file, uint64_t read_size, const LineFn& on_line) {
  const bool gz = file.key.ends_with(".gz");
  Inflater inflater;
  if (gz && !inflater.ok) return Error::internal("zlib inflateInit2 failed");
  std::string chunk, text, out(256u << 10, '\0');
  bool stop = false, in_member = false;
  auto emit_lines = [&](bool last) -> Status {
    size_t begin = 0;
    for (size_t nl; !stop && (nl = text.find('\n', begin)) != std::string::npos; begin = nl + 1) {
      std::string_view line(text.data() + begin, nl - begin);
      if (!line.empty()) DDB2S3_RETURN_IF_ERROR(on_line(line, stop));
    }
    text.erase(0, begin);
    if (last && !stop && !text.empty()) {
      DDB2S3_RETURN_IF_ERROR(on_line(text, stop));
      text.clear();
    }
    return {};
  };
  for (uint64_t offset = 0; offset < file.size && !stop; offset += chunk.size()) {
    DDB2S3_RETURN_IF_ERROR(sink.read(file.key, offset, std::min(read_size, file.size - offset), chunk));
    if (chunk.empty())
      return Error::make(ErrorKind::kClient, "ShortRead", sink.describe(file.key) + " ended early");
    if (!gz) {
      text.append(chunk);
    } else {
      z_stream& z = inflater.z;
      z.next_in = reinterpret_cast<Bytef*>(chunk.data());
      z.avail_in = static_cast<uInt>(chunk.size());
      // Until the chunk is used up and zlib holds no output back (a full out buffer may leave some).
      do {
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        const int rc = inflate(&z, Z_NO_FLUSH);
        text.append(out.data(), out.size() - z.avail_out);
        if (rc == Z_STREAM_END) {
          in_member = false;
          inflateReset(&z);  // another gzip member may follow
        } else if (rc == Z_OK) {
          in_member = true;
        } else if (rc == Z_BUF_ERROR) {
          break;  // no progress possible without more input
        } else {
          return Error::make(ErrorKind::kClient, "BadGzip", sink.describe(file.key) + " is not valid gzip");
        }
      } while (z.avail_in > 0 || z.avail_out == 0);
    }
    DDB2S3_RETURN_IF_ERROR(emit_lines(false));
  }
  if (in_member && !stop)
    return Error::make(ErrorKind::kClient, "BadGzip", sink.describe(file.key) + " ends inside a gzip member");
  return emit_lines(true);
}

// The new snapshot's data files: lines deflated (gzip) into objects of about file_size uncompressed bytes.
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
      if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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
    manifest_ += "{\"itemCount\":" + std::to_string(file_items_) + ",\"md5Checksum\":";
    append_json_string(manifest_, stored.md5_base64);
    manifest_ += ",\"etag\":";
    append_json_string(manifest_, stored.etag);
    manifest_ += ",\"dataFileS3Key\":";
    append_json_string(manifest_, stored.key);
    manifest_ += "}\n";
    files_.push_back(std::move(stored));
    file_items_ = 0;
    raw_bytes_ = 0;
    return {};
  }

  int64_t items() const { return items_; }
  const std::string& manifest() const { return manifest_; }
  std::vector<StoredObject>& files() { return files_; }

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
  std::string buffer_, key_, manifest_;
  int partition_ = -1, file_number_ = 0;
  int64_t items_ = 0, file_items_ = 0;
  uint64_t raw_bytes_ = 0;
  std::vector<StoredObject> files_;
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
  if (o.to.empty()) return Error::usage("merge needs a destination").with_field("to");
  if (o.partitions < 1 || o.partitions > 4096)
    return Error::usage("partitions must be from 1 to 4096").with_field("partitions");
  if (o.file_size < 1) return Error::usage("file_size must be at least 1 byte").with_field("file_size");
  if (o.read_size < 1) return Error::usage("read_size must be at least 1 byte").with_field("read_size");
  const auto started = std::chrono::system_clock::now();

  simdjson::dom::parser parser;
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
  DDB2S3_ASSIGN_OR_RETURN(Location to, open_location(o.to, "to", o));
  const std::string summary_key = to.dest.key(kSummary);
  DDB2S3_ASSIGN_OR_RETURN(auto existing, to.sink->get(summary_key));
  if (existing) {
    Error e = Error::make(ErrorKind::kClient, "SnapshotExists",
                          to.sink->describe(summary_key) + " exists: a snapshot is never overwritten");
    e.hint = "choose another --to";
    return e;
  }
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

  // The key's attribute names: given, or those of the first change record's Keys.
  std::vector<std::string> names = o.key_attributes;
  bool any_change = false;
  for (size_t i = 0; i < incs.size() && !any_change; ++i) {
    for (const auto& f : inc_files[i]) {
      DDB2S3_RETURN_IF_ERROR(
          for_each_line(*incs[i].sink, f, o.read_size, [&](std::string_view line, bool& stop) -> Status {
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
  // Without any change the snapshot is copied as it is: one pass is enough.
  const int partitions = any_change ? o.partitions : 1;

  MergeOutcome outcome;
  SnapshotWriter out(to, o.file_size);
  std::unordered_map<std::string, Change> changes;
  for (int p = 0; p < partitions; ++p) {
    changes.clear();
    for (size_t i = 0; i < incs.size(); ++i) {
      for (const auto& f : inc_files[i]) {
        DDB2S3_RETURN_IF_ERROR(
            for_each_line(*incs[i].sink, f, o.read_size, [&](std::string_view line, bool&) -> Status {
              simdjson::dom::element doc, keys, image;
              std::string_view micros_text;
              if (parser.parse(line.data(), line.size()).get(doc) || doc["Keys"].get(keys) ||
                  !keys.is_object() ||
                  doc["Metadata"]["WriteTimestampMicros"]["N"].get_string().get(micros_text))
                return bad_line(incs[i], f, "has no Keys or Metadata.WriteTimestampMicros");
              if (p == 0) ++outcome.change_records;
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
          for_each_line(*base.sink, f, o.read_size, [&](std::string_view line, bool&) -> Status {
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

  // Manifests: the files' list, then the summary (its presence says the snapshot is complete).
  const std::string files_key = to.dest.key(kFiles);
  DDB2S3_RETURN_IF_ERROR(to.sink->put(files_key, out.manifest(), "application/json"));
  const double start_s = std::chrono::duration<double>(started.time_since_epoch()).count();
  const double end_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string summary =
      "{\"version\":\"2020-06-30\",\"exportType\":\"FULL_EXPORT\",\"outputFormat\":\"DYNAMODB_JSON\"";
  summary += ",\"startTime\":";
  append_json_string(summary, format_time(start_s));
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
  summary += ",\"itemCount\":" + std::to_string(outcome.items);
  summary += ",\"mergedFrom\":{\"base\":";
  append_json_string(summary, o.base);
  summary += ",\"incrementals\":";
  append_json_array(summary, o.incrementals,
                    [](std::string& s, const std::string& t) { append_json_string(s, t); });
  summary += "},\"partitions\":" + std::to_string(partitions);
  summary += ",\"changedKeys\":" + std::to_string(outcome.changed_keys);
  summary += ",\"deletedKeys\":" + std::to_string(outcome.deleted_keys) + "}\n";
  DDB2S3_RETURN_IF_ERROR(to.sink->put(summary_key, summary, "application/json"));
  outcome.files = std::move(out.files());
  outcome.summary_key = summary_key;
  return outcome;
}

}  // namespace ddb2s3

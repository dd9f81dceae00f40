// verify_run(): a finished run checked against its manifests, from listings alone or (deep) by reading every
// data file: MD5, decompression, line count and every line parsed as the run's format.
#include "scan/verify.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/digest.h"
#include "scan/compress.h"
#include "scan/manifest.h"
#include "scan/run_output.h"

namespace ddb2s3 {
namespace {

constexpr uint64_t kReadRange = 8ull << 20;  // bytes of a data file fetched at once (S3 ranged GET)
constexpr size_t kMaxLine = 64ull << 20;     // longer is not an item (DynamoDB's items are <= 400 KB)
constexpr int kMaxDeepThreads = 4;
constexpr uint64_t kVerifyPartSize = 8ull << 20;  // the S3 sink's knobs: verify writes nothing
constexpr int kVerifyPartsInFlight = 1;
constexpr int kVerifyUploadThreads = 1;

std::string text_of(uint64_t n) { return std::to_string(n); }

namespace od = simdjson::ondemand;

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? (numbers are kept as written, digit
// for digit, so they are checked as text, never converted).
bool is_json_number(std::string_view t) {
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.remove_suffix(1);
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i - from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0')
    ++i;
  else if (digits() == 0)
    return false;
  if (i < t.size() && t[i] == '.' && (++i, digits() == 0)) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == t.size();
}

// Walks all of a JSON value, so that every part of it is checked; why it is not valid JSON, or empty.
std::string json_value_error(od::value v) {
  od::json_type type;
  if (v.type().get(type)) return "not a JSON value";
  switch (type) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return "an unreadable object";
      for (auto field : o) {
        std::string_view name;
        od::value member;
        if (field.unescaped_key().get(name) || field.value().get(member))
          return "an unreadable object member";
        if (std::string why = json_value_error(member); !why.empty()) return why;
      }
      return {};
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return "an unreadable array";
      for (auto element : a) {
        od::value e;
        if (element.get(e)) return "an unreadable array element";
        if (std::string why = json_value_error(e); !why.empty()) return why;
      }
      return {};
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) ? "an invalid string" : "";
    }
    case od::json_type::number: {
      return is_json_number(v.raw_json_token()) ? "" : "an invalid number";
    }
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b) ? "an invalid literal" : "";
    }
    case od::json_type::null: {
      bool null = false;
      return v.is_null().get(null) || !null ? "an invalid literal" : "";
    }
  }
  return "not a JSON value";
}

// Why a DYNAMODB_JSON attribute value ({"S":"x"}, {"M":{...}}, ...) is not one; empty when it is.
std::string typed_value_error(od::value v) {
  od::object o;
  if (v.get_object().get(o)) return "an attribute value is not an object";
  size_t members = 0;
  for (auto field : o) {
    std::string_view type;
    od::value value;
    if (field.unescaped_key().get(type) || field.value().get(value)) return "an unreadable attribute value";
    if (++members > 1) return "an attribute value has more than one type";
    const std::string name(type);
    if (type == "S" || type == "N" || type == "B") {
      std::string_view text;
      if (value.get_string().get(text)) return name + " is not a string";
      if (type == "N" && !is_json_number(text)) return "N is not a number";
    } else if (type == "BOOL") {
      bool b = false;
      if (value.get_bool().get(b)) return "BOOL is not true or false";
    } else if (type == "NULL") {
      bool b = false;
      if (value.get_bool().get(b) || !b) return "NULL is not true";
    } else if (type == "SS" || type == "NS" || type == "BS") {
      od::array a;
      if (value.get_array().get(a)) return name + " is not an array";
      size_t n = 0;
      for (auto element : a) {
        std::string_view text;
        if (element.get_string().get(text)) return name + " holds a value that is not a string";
        ++n;
      }
      if (n == 0) return name + " is empty";
    } else if (type == "M") {
      od::object m;
      if (value.get_object().get(m)) return "M is not an object";
      for (auto member : m) {
        std::string_view key;
        od::value inner;
        if (member.unescaped_key().get(key) || member.value().get(inner)) return "an unreadable M member";
        if (std::string why = typed_value_error(inner); !why.empty()) return why;
      }
    } else if (type == "L") {
      od::array l;
      if (value.get_array().get(l)) return "L is not an array";
      for (auto element : l) {
        od::value inner;
        if (element.get(inner)) return "an unreadable L element";
        if (std::string why = typed_value_error(inner); !why.empty()) return why;
      }
    } else {
      return "'" + name + "' is not a DynamoDB type";
    }
  }
  return members == 1 ? "" : "an attribute value has no type";
}

// Lines of a decompressed data file, as they come in blocks: counted, each parsed as the run's format.
class LineChecker {
 public:
  explicit LineChecker(OutputFormat format) : format_(format) {}

  void start() {
    lines_ = bad_lines_ = first_bad_ = 0;
    first_why_.clear();
    partial_.clear();
    too_long_ = false;
  }

  Status add(std::string_view block) {
    while (!block.empty()) {
      const size_t end = block.find('\n');
      if (end == std::string_view::npos) {
        if (!too_long_ && partial_.size() + block.size() > kMaxLine) {
          too_long_ = true;
          partial_.clear();
        }
        if (!too_long_) partial_.append(block);
        return {};
      }
      ++lines_;
      if (too_long_) {
        bad(lines_, "longer than " + std::to_string(kMaxLine >> 20) + " MiB");
        too_long_ = false;
      } else if (partial_.empty()) {
        check(block.substr(0, end));
      } else {
        partial_.append(block.substr(0, end));
        check(partial_);
        partial_.clear();
      }
      block.remove_prefix(end + 1);
    }
    return {};
  }

  // True when the data ended with a line without its newline (counted as a line).
  bool finish() {
    if (partial_.empty() && !too_long_) return false;
    ++lines_;
    if (!too_long_) check(partial_);
    partial_.clear();
    return true;
  }

  uint64_t lines() const { return lines_; }
  uint64_t bad_lines() const { return bad_lines_; }
  uint64_t first_bad() const { return first_bad_; }
  const std::string& first_why() const { return first_why_; }

 private:
  void check(std::string_view line) {
    // The on-demand parser reads past the end: the line goes into a padded buffer (reused).
    if (padded_.size() < line.size() + simdjson::SIMDJSON_PADDING)
      padded_.resize(line.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), line.data(), line.size());
    od::document doc;
    od::object root;
    if (parser_.iterate(padded_.data(), line.size(), padded_.size()).get(doc) || doc.get_object().get(root))
      return bad(lines_, "not a JSON object");
    std::string why;
    if (format_ == OutputFormat::kJsonl) {
      for (auto field : root) {
        std::string_view name;
        od::value v;
        if (field.unescaped_key().get(name) || field.value().get(v)) {
          why = "an unreadable object member";
          break;
        }
        if (why = json_value_error(v); !why.empty()) break;
      }
    } else {
      size_t members = 0;
      for (auto field : root) {
        std::string_view name;
        od::object item;
        if (++members > 1 || field.unescaped_key().get(name) || name != "Item" ||
            field.value().get_object().get(item)) {
          why = "not {\"Item\":{...}}";
          break;
        }
        for (auto attribute : item) {
          std::string_view attribute_name;
          od::value v;
          if (attribute.unescaped_key().get(attribute_name) || attribute.value().get(v)) {
            why = "an unreadable attribute";
            break;
          }
          if (why = typed_value_error(v); !why.empty()) break;
        }
        if (!why.empty()) break;
      }
      if (why.empty() && members != 1) why = "not {\"Item\":{...}}";
    }
    const char* rest = nullptr;
    if (why.empty() && !doc.current_location().get(rest)) why = "text follows the JSON object";
    if (!why.empty()) bad(lines_, std::move(why));
  }

  void bad(uint64_t line, std::string why) {
    if (bad_lines_++ == 0) {
      first_bad_ = line;
      first_why_ = std::move(why);
    }
  }

  OutputFormat format_;
  od::parser parser_;    // reused: its buffers grow to the longest line, then stay
  std::string padded_;   // the line being parsed, with simdjson's padding
  std::string partial_;  // a line split across blocks
  bool too_long_ = false;
  uint64_t lines_ = 0, bad_lines_ = 0, first_bad_ = 0;
  std::string first_why_;
};

// One data file to read whole (deep).
struct DeepFile {
  const ManifestEntry* entry;
  std::string key;
  uint64_t size;         // as listed
  std::string location;  // for problems: the key, or the file's path
};

// Reads and checks data files, a few at once; problems are added to the report under its lock.
class DeepChecker {
 public:
  DeepChecker(Sink& sink, const VerifyOptions& o, std::optional<OutputFormat> format, Compression compression,
              VerifyReport& report)
      : sink_(sink), options_(o), format_(format), compression_(compression), report_(report) {}

  Status run(const std::vector<DeepFile>& files) {
    int threads = options_.parallelism > 0
                      ? options_.parallelism
                      : std::min<int>(kMaxDeepThreads, std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, std::min<int>(threads, static_cast<int>(files.size())));
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) workers.emplace_back([&] { work(files); });
    for (auto& t : workers) t.join();
    return failure_ ? Status(*failure_) : Status();
  }

 private:
  void work(const std::vector<DeepFile>& files) {
    auto decompressor = Decompressor::make(compression_);
    auto md5 = Md5::make();
    if (!decompressor || !md5) return fail(!decompressor ? decompressor.error() : md5.error());
    LineChecker lines(format_.value_or(OutputFormat::kJsonl));
    std::string range;
    while (true) {
      size_t i = 0;
      {
        std::lock_guard lock(mu_);
        if (failure_ || next_ >= files.size()) return;
        i = next_++;
      }
      Status s = check_file(files[i], **decompressor, *md5, lines, range);
      if (!s) return fail(std::move(s).error());
    }
  }

  Status check_file(const DeepFile& f, Decompressor& decompressor, Md5& md5, LineChecker& lines,
                    std::string& range) {
    const DataFile& recorded = f.entry->file;
    decompressor.start();
    md5.reset();
    lines.start();
    std::optional<std::string> decompression_error;
    const Decompressor::Output to_lines = [&](std::string_view block) { return lines.add(block); };
    uint64_t offset = 0;
    while (offset < f.size) {
      if (options_.cancel && options_.cancel->load())
        return Error::make(ErrorKind::kCancelled, "Cancelled", "verifying was interrupted");
      DDB2S3_RETURN_IF_ERROR(sink_.read(f.key, offset, std::min(kReadRange, f.size - offset), range));
      if (range.empty()) break;  // shorter than listed: the MD5 tells
      md5.update(range);
      offset += range.size();
      if (!decompression_error) {
        Status s = decompressor.add(range, to_lines);
        if (!s) decompression_error = s.error().message;
      }
    }
    {
      std::lock_guard lock(mu_);
      report_.bytes_read += offset;
    }
    if (!decompression_error) {
      Status s = decompressor.finish();
      if (!s) decompression_error = s.error().message;
    }
    std::vector<VerifyProblem> found;
    const std::string md5_found = md5.base64_digest();
    if (md5_found != recorded.object.md5_base64)
      found.push_back({f.location, "MD5 differs", recorded.object.md5_base64, md5_found});
    if (decompression_error) {
      found.push_back({f.location, "decompression failed", "", *decompression_error});
    } else {
      if (lines.finish())
        found.push_back({f.location, "the last line has no newline (a truncated file?)", "", ""});
      if (lines.lines() != recorded.item_count)
        found.push_back({f.location, "line count differs from itemCount", text_of(recorded.item_count),
                         text_of(lines.lines())});
      if (lines.bad_lines() > 0) {
        std::string what = "line " + text_of(lines.first_bad()) + " is not valid " +
                           std::string(format_ ? output_format_name(*format_) : "JSON");
        if (lines.bad_lines() > 1) what += " (" + text_of(lines.bad_lines()) + " lines in all)";
        found.push_back({f.location, std::move(what), "", lines.first_why()});
      }
    }
    std::lock_guard lock(mu_);
    report_.lines += lines.lines();
    for (auto& p : found) report_.problems.push_back(std::move(p));
    return {};
  }

  void fail(Error e) {
    std::lock_guard lock(mu_);
    if (!failure_) failure_ = std::move(e);
  }

  Sink& sink_;
  const VerifyOptions& options_;
  std::optional<OutputFormat> format_;  // nullopt: the summary did not say (each line a JSON object)
  Compression compression_;
  VerifyReport& report_;
  std::mutex mu_;
  size_t next_ = 0;
  std::optional<Error> failure_;
};

// Compression from a data file's name, when the summary cannot say.
Compression compression_of_name(std::string_view key) {
  if (key.ends_with(file_extension(Compression::kGzip))) return Compression::kGzip;
  if (key.ends_with(file_extension(Compression::kZstd))) return Compression::kZstd;
  return Compression::kNone;
}

Error no_such_run(const VerifyOptions& o, Sink& sink, const std::string& run_prefix) {
  Error e = Error::make(ErrorKind::kClient, "NoSuchRun",
                        "there is no run '" + o.run_id + "' under '" + sink.describe(o.dest.key("")) +
                            "': nothing is under '" + sink.describe(run_prefix) + "'");
  e.resource = sink.describe(run_prefix);
  e.hint = "check the destination and run_id (scan prints the run id; each run is a folder under the prefix)";
  e.field = "run_id";
  return e;
}

}  // namespace

Result<VerifyReport> verify_run(VerifyOptions o) {
  const auto started = std::chrono::steady_clock::now();
  if (!valid_run_id(o.run_id))
    return Error::usage("verifying needs the run_id of the run (letters, digits, '-', '_', '.')")
        .with_field("run_id");
  S3SinkOptions s3;
  s3.part_size = kVerifyPartSize;
  s3.max_parts_in_flight = kVerifyPartsInFlight;
  s3.upload_threads = kVerifyUploadThreads;
  s3.expected_bucket_owner = o.expected_bucket_owner;
  DDB2S3_ASSIGN_OR_RETURN(auto sink,
                          open_sink(SinkOptions{o.dest, o.dest_aws, std::move(s3), o.env, o.session}));
  if (o.dest.is_s3) {
    DDB2S3_RETURN_IF_ERROR(sink->check());  // HeadBucket: a missing bucket or permission is said plainly
  } else if (struct stat st{}; ::stat(o.dest.directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Error e = Error::io("the destination directory '" + o.dest.directory + "' does not exist");
    e.resource = o.dest.directory;
    return e;
  }

  const std::string run_prefix = o.dest.key(o.run_id + "/");
  const std::string data_prefix = run_prefix + "data/";
  DDB2S3_ASSIGN_OR_RETURN(auto listed, sink->list_objects(run_prefix));
  if (listed.empty()) return no_such_run(o, *sink, run_prefix);
  std::map<std::string_view, const ObjectSummary*> by_key;
  for (const ObjectSummary& obj : listed) by_key[obj.key] = &obj;

  VerifyReport report;
  report.run_id = o.run_id;
  report.destination = sink->describe(o.dest.key(o.run_id));
  report.bucket = o.dest.bucket;
  report.deep = o.deep;
  // Keys in problems: the S3 key, or the file's path.
  auto where = [&](const std::string& key) { return o.dest.is_s3 ? key : sink->describe(key); };
  auto problem = [&](const std::string& key, std::string what, std::string expected, std::string found) {
    report.problems.push_back({where(key), std::move(what), std::move(expected), std::move(found)});
  };
  // A small object of the run (a manifest): its text, or a problem when absent.
  auto read_manifest = [&](const std::string& key, const char* why) -> Result<std::optional<std::string>> {
    if (by_key.find(key) == by_key.end()) {
      problem(key, "missing", why, "nothing");
      return std::optional<std::string>();
    }
    DDB2S3_ASSIGN_OR_RETURN(auto text, sink->get(key));
    if (!text) problem(key, "missing", why, "nothing");
    return text;
  };

  // manifest-summary.json: there, valid, about this run and naming its manifest.
  const std::string summary_key = run_prefix + std::string(kManifestSummary);
  const std::string files_key = run_prefix + std::string(kManifestFiles);
  std::optional<RunSummary> summary;
  DDB2S3_ASSIGN_OR_RETURN(auto summary_text, read_manifest(summary_key,
                                                           "the run's summary, written when it completes (a "
                                                           "shared scan's by finalize)"));
  if (summary_text) {
    auto parsed = parse_manifest_summary(*summary_text, sink->describe(summary_key));
    if (!parsed) {
      problem(summary_key, "not a valid manifest summary", "", parsed.error().message);
    } else {
      summary = std::move(*parsed);
      if (summary->run.run_id != o.run_id)
        problem(summary_key, "runId differs", o.run_id, summary->run.run_id);
      if (summary->manifest_files_key != files_key)
        problem(summary_key, "names another manifest (manifestFilesS3Key)", files_key,
                summary->manifest_files_key);
    }
  }
  report.checks.push_back("manifest-summary.json exists, parses and names manifest-files.json");

  // manifest-files.json against the listing.
  DDB2S3_ASSIGN_OR_RETURN(auto files_text, read_manifest(files_key, "the list of the run's data files"));
  std::vector<ManifestEntry> entries;
  bool have_manifest = false;
  if (files_text) {
    auto parsed = parse_manifest_files(*files_text, sink->describe(files_key));
    if (!parsed) {
      problem(files_key, "not a valid manifest of files", "", parsed.error().message);
    } else {
      entries = std::move(*parsed);
      have_manifest = true;
    }
  }
  std::vector<DeepFile> deep_files;
  if (have_manifest) {
    std::map<std::string_view, size_t> lines_of;
    for (const ManifestEntry& e : entries) {
      const StoredObject& rec = e.file.object;
      report.items += e.file.item_count;
      if (auto [it, fresh] = lines_of.emplace(rec.key, e.line); !fresh) {
        problem(rec.key, "listed twice in manifest-files.json", "line " + text_of(it->second),
                "line " + text_of(e.line));
        continue;
      }
      ++report.files;
      auto found = by_key.find(rec.key);
      if (found == by_key.end()) {
        problem(rec.key, "missing", "a data file (manifest-files.json line " + text_of(e.line) + ")",
                "nothing");
        continue;
      }
      const ObjectSummary& obj = *found->second;
      report.bytes += obj.size;
      if (e.size_recorded && obj.size != rec.size)
        problem(rec.key, "size differs", text_of(rec.size) + " bytes", text_of(obj.size) + " bytes");
      if (obj.etag != rec.etag) problem(rec.key, "ETag differs", rec.etag, obj.etag);
      deep_files.push_back({&e, rec.key, obj.size, where(rec.key)});
    }
    for (const ObjectSummary& obj : listed)
      if (obj.key.starts_with(data_prefix) && lines_of.find(obj.key) == lines_of.end())
        problem(obj.key, "not in the manifest (an orphan: importers read every file under data/)", "",
                text_of(obj.size) + " bytes");
    if (summary) {
      if (summary->run.item_count != report.items)
        problem(summary_key, "counts do not add up: itemCount", text_of(summary->run.item_count),
                text_of(report.items) + " (the files' itemCounts, summed)");
      if (summary->file_count != entries.size())
        problem(summary_key, "counts do not add up: fileCount", text_of(summary->file_count),
                text_of(entries.size()) + " (lines of manifest-files.json)");
    }
    report.checks.push_back(
        text_of(report.files) +
        " data files exist with the recorded size and ETag, and nothing else is in data/");
    report.checks.push_back("itemCount and fileCount of the summary match manifest-files.json");
  }

  if (o.deep && !deep_files.empty()) {
    std::optional<OutputFormat> format;
    Compression compression = compression_of_name(deep_files.front().key);
    if (summary) {
      format = summary->run.format;
      compression = summary->run.compression;
    }
    DeepChecker checker(*sink, o, format, compression, report);
    // Problems about one file are reported together, the files in manifest order.
    const size_t before = report.problems.size();
    DDB2S3_RETURN_IF_ERROR(checker.run(deep_files));
    std::stable_sort(report.problems.begin() + static_cast<std::ptrdiff_t>(before), report.problems.end(),
                     [](const VerifyProblem& a, const VerifyProblem& b) { return a.key < b.key; });
    report.checks.push_back(text_of(deep_files.size()) + " data files read whole: MD5, " +
                            std::string(compression_name(compression)) + " decompression, " +
                            text_of(report.lines) + " lines counted and parsed as " +
                            std::string(format ? output_format_name(*format) : "JSON"));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace ddb2s3

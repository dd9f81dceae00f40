// The manifests' text: writing manifest-files.json, manifest-summary.json and segment manifests, and
// reading segment manifests back (for finalize).
#include "scan/manifest.h"

#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <utility>

#include "base/json_writer.h"
#include "scan/parallel.h"

namespace ddb2s3 {

void append_data_file_json(std::string& out, const DataFile& f, bool with_segment) {
  JsonObjectWriter w(out);
  w.number("itemCount", f.item_count);
  w.string("md5Checksum", f.object.md5_base64);
  w.string("etag", f.object.etag);
  w.string("dataFileS3Key", f.object.key);
  w.number("size", f.object.size);
  if (with_segment) w.number("segment", static_cast<uint64_t>(f.segment));
  w.close();
}

namespace {

void append_common(JsonObjectWriter& w, const RunRecord& run) {
  w.string("runId", run.run_id);
  w.string("table", run.table);
  w.string("tableArn", run.table_arn);
  w.string("startTime", run.start_time);
  w.string("endTime", run.end_time);
  w.string("s3Bucket", run.bucket);
  w.string("s3Prefix", run.prefix);
  w.string_or_null("s3SseAlgorithm", run.sse_algorithm);
  w.string_or_null("s3SseKmsKeyId", run.sse_kms_key_id);
  w.number("itemCount", run.item_count);
  w.number("scannedCount", run.scanned_count);
  w.string("outputFormat", output_format_name(run.format));
  w.string("compression", compression_name(run.compression));
  w.number("fileCount", static_cast<uint64_t>(run.files.size()));
  w.number("totalSegments", static_cast<uint64_t>(run.total_segments));
  w.raw("scan", run.scan_json.empty() ? "{}" : run.scan_json);
  w.number("consumedReadCapacityUnits", run.consumed_rcu);
}

std::string to_string(simdjson::ondemand::value v) {
  std::string_view s;
  if (v.get_string().get(s)) return {};
  return std::string(s);
}

}  // namespace

uint64_t RunRecord::stored_bytes() const {
  uint64_t total = 0;
  for (const DataFile& f : files) total += f.object.size;
  return total;
}

std::string_view output_format_name(OutputFormat format) {
  return format == OutputFormat::kJsonl ? "JSONL" : "DYNAMODB_JSON";
}

std::string data_file_name(int segment, int total_segments, int index, Compression compression) {
  int width = std::max<int>(4, static_cast<int>(std::to_string(std::max(0, total_segments - 1)).size()));
  std::string seg = std::to_string(segment);
  std::string idx = std::to_string(index);
  std::string name = "data/";
  name.append(width - std::min<int>(width, seg.size()), '0').append(seg).append("-");
  name.append(5 - std::min<size_t>(5, idx.size()), '0').append(idx).append(".json");
  name += file_extension(compression);
  return name;
}

std::string segment_manifest_name(int segment) { return "segments/" + std::to_string(segment) + ".json"; }

std::string manifest_files_json(const std::vector<DataFile>& files) {
  std::string out;
  out.reserve(files.size() * 200);
  for (const auto& f : files) {
    append_data_file_json(out, f, false);
    out += '\n';
  }
  return out;
}

std::string manifest_summary_json(const RunRecord& run, std::string_view manifest_files_key) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("version", "2020-06-30");
  append_common(w, run);
  w.string("manifestFilesS3Key", manifest_files_key);
  w.string("exportType", "SCAN");
  w.string("tool", "ddb2s3");
  w.close();
  out += '\n';
  return out;
}

std::string segment_manifest_json(const RunRecord& run) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("version", "ddb2s3-segment-1");
  w.number("segment", static_cast<uint64_t>(run.segment));
  append_common(w, run);
  w.number("scanBytes", run.scan_bytes);
  w.number("pages", run.pages);
  w.number("seconds", run.seconds);
  w.number("throttles", run.throttles);
  w.array("files", run.files, [](std::string& o, const DataFile& f) { append_data_file_json(o, f, true); });
  w.close();
  out += '\n';
  return out;
}

Result<RunRecord> parse_segment_manifest(std::string_view json, std::string_view key) {
  auto bad = [&](std::string why) {
    Error e = Error::make(ErrorKind::kClient, "InvalidSegmentManifest",
                          "segment manifest " + std::string(key) + " is not valid: " + why);
    e.resource = std::string(key);
    e.hint = "it was not written by this version of ddb2s3, or was damaged; re-run that segment";
    return e;
  };
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return bad("not JSON");
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return bad("not a JSON object");
  RunRecord run;
  bool have_segment = false, have_total = false, have_files = false;
  for (auto member : root) {
    std::string_view name;
    simdjson::ondemand::value v;
    if (member.unescaped_key().get(name) || member.value().get(v)) return bad("unreadable member");
    uint64_t n = 0;
    if (name == "runId") run.run_id = to_string(v);
    else if (name == "table") run.table = to_string(v);
    else if (name == "tableArn") run.table_arn = to_string(v);
    else if (name == "startTime") run.start_time = to_string(v);
    else if (name == "endTime") run.end_time = to_string(v);
    else if (name == "s3Bucket") run.bucket = to_string(v);
    else if (name == "s3Prefix") run.prefix = to_string(v);
    else if (name == "s3SseAlgorithm") run.sse_algorithm = to_string(v);
    else if (name == "s3SseKmsKeyId") run.sse_kms_key_id = to_string(v);
    else if (name == "outputFormat") run.format = to_string(v) == "DYNAMODB_JSON" ? OutputFormat::kDynamoDbJson : OutputFormat::kJsonl;
    else if (name == "compression") {
      auto c = parse_compression(to_string(v));
      if (!c) return bad("unknown compression");
      run.compression = *c;
    } else if (name == "segment") {
      if (v.get_uint64().get(n)) return bad("segment is not a number");
      run.segment = static_cast<int>(std::min<uint64_t>(n, INT_MAX));
      have_segment = true;
    } else if (name == "totalSegments") {
      if (v.get_uint64().get(n)) return bad("totalSegments is not a number");
      run.total_segments = static_cast<int>(std::min<uint64_t>(n, INT_MAX));
      have_total = true;
    } else if (name == "itemCount") {
      if (v.get_uint64().get(run.item_count)) return bad("itemCount is not a number");
    } else if (name == "scannedCount") {
      if (v.get_uint64().get(run.scanned_count)) return bad("scannedCount is not a number");
    } else if (name == "scanBytes") {  // scanBytes, pages and seconds: absent in manifests of older versions
      if (v.get_uint64().get(run.scan_bytes)) return bad("scanBytes is not a number");
    } else if (name == "pages") {
      if (v.get_uint64().get(run.pages)) return bad("pages is not a number");
    } else if (name == "seconds") {
      if (v.get_double().get(run.seconds)) return bad("seconds is not a number");
    } else if (name == "consumedReadCapacityUnits") {  // and throttles: absent in older versions' manifests
      if (v.get_double().get(run.consumed_rcu)) return bad("consumedReadCapacityUnits is not a number");
    } else if (name == "throttles") {
      if (v.get_uint64().get(run.throttles)) return bad("throttles is not a number");
    } else if (name == "scan") {
      simdjson::ondemand::object o;
      if (v.get_object().get(o)) return bad("scan is not an object");
      std::string_view whole;
      if (o.raw_json().get(whole)) return bad("scan is unreadable");
      run.scan_json = std::string(whole);
    } else if (name == "files") {
      simdjson::ondemand::array files;
      if (v.get_array().get(files)) return bad("files is not an array");
      have_files = true;
      for (auto fv : files) {
        simdjson::ondemand::object fo;
        if (fv.get_object().get(fo)) return bad("a file entry is not an object");
        DataFile f;
        for (auto fm : fo) {
          std::string_view fname;
          simdjson::ondemand::value fval;
          if (fm.unescaped_key().get(fname) || fm.value().get(fval)) return bad("unreadable file entry");
          uint64_t x = 0;
          if (fname == "itemCount") {
            if (fval.get_uint64().get(f.item_count)) return bad("file itemCount is not a number");
          } else if (fname == "md5Checksum") f.object.md5_base64 = to_string(fval);
          else if (fname == "etag") f.object.etag = to_string(fval);
          else if (fname == "dataFileS3Key") f.object.key = to_string(fval);
          else if (fname == "size") {
            if (fval.get_uint64().get(f.object.size)) return bad("file size is not a number");
          } else if (fname == "segment") {
            if (fval.get_uint64().get(x)) return bad("file segment is not a number");
            f.segment = static_cast<int>(x);
          }
        }
        if (f.object.key.empty()) return bad("a file entry has no dataFileS3Key");
        run.files.push_back(std::move(f));
      }
    }
  }
  if (!have_segment || !have_total || !have_files) return bad("segment, totalSegments or files is missing");
  if (Status s = check_segments(run.total_segments, run.segment); !s) return bad(s.error().message);
  return run;
}

namespace {

Error invalid_manifest(std::string_view code, std::string_view key, const std::string& why) {
  Error e = Error::make(ErrorKind::kClient, std::string(code), std::string(key) + " is not valid: " + why);
  e.resource = std::string(key);
  e.hint = "it was not written by ddb2s3, or was changed since; scan the table again into a new run";
  return e;
}

// A string member's value, or nullopt when it is not a string.
std::optional<std::string> string_of(simdjson::ondemand::value v) {
  std::string_view s;
  if (v.get_string().get(s)) return std::nullopt;
  return std::string(s);
}

}  // namespace

Result<RunSummary> parse_manifest_summary(std::string_view json, std::string_view key) {
  auto bad = [&](const std::string& why) { return invalid_manifest("InvalidManifestSummary", key, why); };
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) return bad("not a JSON object");
  RunSummary s;
  RunRecord& run = s.run;
  bool have_run = false, have_items = false, have_files = false, have_format = false,
       have_compression = false;
  for (auto member : root) {
    std::string_view name;
    simdjson::ondemand::value v;
    if (member.unescaped_key().get(name) || member.value().get(v)) return bad("not JSON");
    auto text = [&](std::string& out) -> bool {
      auto str = string_of(v);
      if (str) out = std::move(*str);
      return str.has_value();
    };
    std::string value;
    if (name == "runId") {
      if (!text(run.run_id) || run.run_id.empty()) return bad("runId is not a non-empty string");
      have_run = true;
    } else if (name == "table") {
      if (!text(run.table)) return bad("table is not a string");
    } else if (name == "tableArn") {
      if (!text(run.table_arn)) return bad("tableArn is not a string");
    } else if (name == "startTime") {
      if (!text(run.start_time)) return bad("startTime is not a string");
    } else if (name == "endTime") {
      if (!text(run.end_time)) return bad("endTime is not a string");
    } else if (name == "s3Bucket") {
      if (!text(run.bucket)) return bad("s3Bucket is not a string");
    } else if (name == "s3Prefix") {
      if (!text(run.prefix)) return bad("s3Prefix is not a string");
    } else if (name == "manifestFilesS3Key") {
      if (!text(s.manifest_files_key)) return bad("manifestFilesS3Key is not a string");
    } else if (name == "outputFormat") {
      if (!text(value) || (value != "JSONL" && value != "DYNAMODB_JSON"))
        return bad("outputFormat is not JSONL or DYNAMODB_JSON");
      run.format = value == "JSONL" ? OutputFormat::kJsonl : OutputFormat::kDynamoDbJson;
      have_format = true;
    } else if (name == "compression") {
      auto c = text(value) ? parse_compression(value) : Result<Compression>(Error::usage(""));
      if (!c) return bad("compression is not gzip, zstd or none");
      run.compression = *c;
      have_compression = true;
    } else if (name == "itemCount") {
      if (v.get_uint64().get(run.item_count)) return bad("itemCount is not a number");
      have_items = true;
    } else if (name == "scannedCount") {
      if (v.get_uint64().get(run.scanned_count)) return bad("scannedCount is not a number");
    } else if (name == "fileCount") {
      if (v.get_uint64().get(s.file_count)) return bad("fileCount is not a number");
      have_files = true;
    } else if (name == "totalSegments") {
      uint64_t n = 0;
      if (v.get_uint64().get(n) || n < 1 || n > static_cast<uint64_t>(kMaxTotalSegments))
        return bad("totalSegments is not a number from 1 to " + std::to_string(kMaxTotalSegments));
      run.total_segments = static_cast<int>(n);
    }
  }
  for (auto [have, field] : {std::pair{have_run, "runId"},
                             {have_items, "itemCount"},
                             {have_files, "fileCount"},
                             {have_format, "outputFormat"},
                             {have_compression, "compression"},
                             {!s.manifest_files_key.empty(), "manifestFilesS3Key"}})
    if (!have) return bad(std::string(field) + " is missing");
  return s;
}

Result<std::vector<ManifestEntry>> parse_manifest_files(std::string_view text, std::string_view key) {
  std::vector<ManifestEntry> entries;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    auto bad = [&](const std::string& why) {
      return invalid_manifest("InvalidManifestFiles", key, "line " + std::to_string(line_number) + " " + why);
    };
    if (end == std::string_view::npos) return bad("does not end with a newline");
    padded = simdjson::padded_string(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object o;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(o)) return bad("is not a JSON object");
    ManifestEntry entry;
    entry.line = line_number;
    StoredObject& object = entry.file.object;
    bool have_count = false, have_md5 = false, have_etag = false;
    for (auto member : o) {
      std::string_view name;
      simdjson::ondemand::value v;
      if (member.unescaped_key().get(name) || member.value().get(v)) return bad("is not JSON");
      auto text_of = [&](std::string& out, bool& have) -> bool {
        auto str = string_of(v);
        if (!str || str->empty()) return false;
        out = std::move(*str);
        have = true;
        return true;
      };
      bool have_key = false;
      if (name == "itemCount") {
        if (v.get_uint64().get(entry.file.item_count)) return bad("has an itemCount that is not a number");
        have_count = true;
      } else if (name == "md5Checksum") {
        if (!text_of(object.md5_base64, have_md5)) return bad("has an md5Checksum that is not a string");
      } else if (name == "etag") {
        if (!text_of(object.etag, have_etag)) return bad("has an etag that is not a string");
      } else if (name == "dataFileS3Key") {
        if (!text_of(object.key, have_key)) return bad("has a dataFileS3Key that is not a string");
      } else if (name == "size") {
        if (v.get_uint64().get(object.size)) return bad("has a size that is not a number");
        entry.size_recorded = true;
      }
    }
    if (!have_count || !have_md5 || !have_etag || object.key.empty())
      return bad("lacks itemCount, md5Checksum, etag or dataFileS3Key");
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace ddb2s3

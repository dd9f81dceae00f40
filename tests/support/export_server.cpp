#include "support/export_server.h"

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <regex>
#include <variant>

#include "aws/session.h"
#include "base/digest.h"
#include "dynamodb/dynamodb.h"
#include "pitr/merge.h"
#include "s3/s3.h"
#include "support/http_server.h"

namespace ddb2s3::testing {
namespace {

constexpr double kMinIncremental = 15 * 60, kMaxIncremental = 24 * 60 * 60;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string number(double t) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

// A JSON object written field by field.
class Writer {
 public:
  Writer& str(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;
    return raw(key, quoted(value));
  }
  Writer& raw(std::string_view key, std::string_view json) {
    out_ += out_.empty() ? "{" : ",";
    append_string(out_, key);
    out_ += ':';
    out_ += json;
    return *this;
  }
  Writer& time(std::string_view key, std::optional<double> t) { return t ? raw(key, number(*t)) : *this; }
  std::string done() { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  static std::string quoted(std::string_view s) {
    std::string q;
    append_string(q, s);
    return q;
  }
  std::string out_;
};

// The request schema of one operation, as in the API reference.
enum class Type { kString, kTimestamp, kInteger, kObject };
struct Field {
  std::string_view name;
  Type type;
  bool required = false;
  std::vector<std::string_view> one_of = {};
  size_t min_len = 0, max_len = 0;  // strings (0: no limit)
  const char* pattern = nullptr;
  int64_t min = 0, max = 0;  // integers
  const std::vector<Field>* members = nullptr;
};

const std::vector<Field> kIncrementalSpec = {
    {"ExportFromTime", Type::kTimestamp},
    {"ExportToTime", Type::kTimestamp},
    {"ExportViewType", Type::kString, false, {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}},
};

const std::map<std::string, std::vector<Field>, std::less<>>& schemas() {
  static const std::map<std::string, std::vector<Field>, std::less<>> kSchemas = {
      {"DescribeTable", {{"TableName", Type::kString, true, {}, 1, 1024}}},
      {"DescribeContinuousBackups", {{"TableName", Type::kString, true, {}, 1, 1024}}},
      {"ExportTableToPointInTime",
       {{"TableArn", Type::kString, true, {}, 1, 1024},
        {"ExportTime", Type::kTimestamp},
        {"ClientToken", Type::kString, false, {}, 0, 0, "^[^\\$]+$"},
        {"S3Bucket", Type::kString, true, {}, 0, 255, "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$"},
        {"S3BucketOwner", Type::kString, false, {}, 0, 0, "^[0-9]{12}$"},
        {"S3Prefix", Type::kString, false, {}, 0, 1024},
        {"S3SseAlgorithm", Type::kString, false, {"AES256", "KMS"}},
        {"S3SseKmsKeyId", Type::kString, false, {}, 1, 2048},
        {"ExportFormat", Type::kString, false, {"DYNAMODB_JSON", "ION"}},
        {"ExportType", Type::kString, false, {"FULL_EXPORT", "INCREMENTAL_EXPORT"}},
        {"IncrementalExportSpecification",
         Type::kObject,
         false,
         {},
         0,
         0,
         nullptr,
         0,
         0,
         &kIncrementalSpec}}},
      {"DescribeExport", {{"ExportArn", Type::kString, true, {}, 37, 1024}}},
      {"ListExports",
       {{"TableArn", Type::kString, false, {}, 1, 1024},
        {"MaxResults", Type::kInteger, false, {}, 0, 0, nullptr, 1, 25},
        {"NextToken", Type::kString}}},
  };
  return kSchemas;
}

// The first broken rule of obj against schema, or nullopt.
std::optional<std::string> validate(simdjson::dom::object obj, const std::vector<Field>& schema,
                                    const std::string& path) {
  for (auto member : obj) {
    const bool known =
        std::any_of(schema.begin(), schema.end(), [&](const Field& f) { return f.name == member.key; });
    if (!known) return "Unknown field '" + path + std::string(member.key) + "'";
  }
  for (const Field& f : schema) {
    simdjson::dom::element v;
    const std::string where = path + std::string(f.name);
    if (obj[f.name].get(v)) {
      if (f.required)
        return "1 validation error detected: Value null at '" + where +
               "' failed to satisfy constraint: Member must not be null";
      continue;
    }
    switch (f.type) {
      case Type::kString: {
        std::string_view s;
        if (v.get_string().get(s)) return "Field '" + where + "' must be a string";
        if (f.min_len && s.size() < f.min_len)
          return "Value at '" + where +
                 "' failed to satisfy constraint: Member must have length greater than or equal to " +
                 std::to_string(f.min_len);
        if (f.max_len && s.size() > f.max_len)
          return "Value at '" + where +
                 "' failed to satisfy constraint: Member must have length less than or equal to " +
                 std::to_string(f.max_len);
        if (!f.one_of.empty() && std::find(f.one_of.begin(), f.one_of.end(), s) == f.one_of.end()) {
          std::string set;
          for (auto e : f.one_of) set += (set.empty() ? "" : ", ") + std::string(e);
          return "Value '" + std::string(s) + "' at '" + where +
                 "' failed to satisfy constraint: Member must satisfy enum value set: [" + set + "]";
        }
        if (f.pattern && !std::regex_match(std::string(s), std::regex(f.pattern)))
          return "Value '" + std::string(s) + "' at '" + where +
                 "' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
                 f.pattern;
        break;
      }
      case Type::kTimestamp:
        if (!v.is_number())
          return "Field '" + where + "' must be a timestamp: epoch seconds as a JSON number";
        break;
      case Type::kInteger: {
        int64_t i = 0;
        if (v.get_int64().get(i)) return "Field '" + where + "' must be an integer";
        if (i < f.min || i > f.max)
          return "Value at '" + where + "' failed to satisfy constraint: Member must be between " +
                 std::to_string(f.min) + " and " + std::to_string(f.max);
        break;
      }
      case Type::kObject: {
        simdjson::dom::object inner;
        if (v.get_object().get(inner)) return "Field '" + where + "' must be an object";
        if (auto e = validate(inner, *f.members, where + ".")) return e;
        break;
      }
    }
  }
  return std::nullopt;
}

std::string text(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return std::string(s);
}

std::optional<double> time_of(simdjson::dom::element e, std::string_view key) {
  double d = 0;
  if (e[key].get_double().get(d)) return std::nullopt;
  return d;
}

struct Failure {
  std::string code, message;
};

// ISO 8601 UTC with milliseconds, as the export manifests write times.
std::string iso_time(double t) {
  const auto secs = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((t - std::floor(t)) * 1000));
  return buf;
}

std::string gzip(std::string_view text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

std::string md5_hex(std::string_view body) {
  auto md5 = Md5::make();
  if (!md5) return {};
  md5->update(body);
  return md5->hex_digest();
}

// A table's items by key, both as canonical DynamoDB JSON text.
using Snapshot = std::map<std::string, std::string>;

Environment backing_env() {
  return Environment::from({{"AWS_EC2_METADATA_DISABLED", "true"},
                            {"AWS_CONFIG_FILE", "/nonexistent/ddb2s3-test/config"},
                            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ddb2s3-test/credentials"},
                            {"HOME", "/nonexistent/ddb2s3-test"}});
}

AwsOptions backing_aws(const ExportServer::Backing& b, const std::string& endpoint) {
  AwsOptions o;
  o.region = b.region;
  o.endpoint_url = endpoint;
  o.access_key_id = b.access_key;
  o.secret_access_key = b.secret_key;
  return o;
}

// Scans the whole table (consistent reads) into a Snapshot keyed by its key attributes.
std::variant<Snapshot, std::string> scan_table(const ExportServer::Backing& b, const std::string& table) {
  auto config = make_service_config("dynamodb", backing_aws(b, b.dynamodb_endpoint), backing_env());
  if (!config) return config.error().message;
  DynamoDbClient client(*config);
  auto described = client.describe_table(table);
  if (!described) return described.error().message;
  std::vector<std::string> names;
  for (const auto& k : described->key_schema) names.push_back(k.attribute_name);
  Snapshot snapshot;
  ScanRequest request;
  request.table_name = table;
  request.consistent_read = true;
  simdjson::dom::parser parser;
  do {
    auto page = client.scan(request);
    if (!page) return page.error().message;
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser.parse(page->body).get(doc) || doc["Items"].get_array().get(items)) return "bad Scan answer";
    for (simdjson::dom::element item : items) {
      std::string key = "{";
      for (const auto& name : names) {
        simdjson::dom::element v;
        if (item[name].get(v)) return "an item without its key attribute " + name;
        if (key.size() > 1) key += ',';
        append_string(key, name);
        key += ':' + simdjson::minify(v);
      }
      auto canonical_key = canonical_dynamodb_json(key + "}");
      auto canonical_item = canonical_dynamodb_json(simdjson::minify(item));
      if (!canonical_key || !canonical_item) return "an item that is not JSON";
      snapshot[*canonical_key] = *canonical_item;
    }
    request.exclusive_start_key_json = page->last_evaluated_key_json;
  } while (!request.exclusive_start_key_json.empty());
  return snapshot;
}

}  // namespace

struct ExportServer::State {
  struct Table {
    std::string name;
    bool pitr = true;
    double earliest = 0, latest = 0;
  };
  struct Export {
    std::string arn, table_arn, token, fingerprint, status = "IN_PROGRESS";
    std::string bucket, bucket_owner, prefix, sse, kms_key, format = "DYNAMODB_JSON", type = "FULL_EXPORT";
    std::optional<double> export_time, from, to;
    std::string view;
    double start = 0;
    std::optional<double> end;
    int polls_left = 0;
    Schedule schedule;
    bool backed = false;             // writes its output when it completes
    std::vector<std::string> lines;  // the data file's lines
  };

  mutable std::mutex mu;
  std::map<std::string, Table> tables;   // by name
  std::vector<Export> exports;           // in creation order
  std::map<std::string, size_t> tokens;  // ClientToken -> exports index
  Schedule schedule;
  int throttle_left = 0, throttle_skip = 0;
  std::string throttle_code;
  std::vector<Request> log;
  std::optional<Backing> backing;
  std::map<std::string, std::map<double, Snapshot>> snapshots;  // by table, by time
  int64_t last_id_ms = 0;
  uint32_t id_counter = 0;
  TestHttpServer http;  // last: stopped first

  const Table* table_by_arn(const std::string& arn) const {
    for (const auto& [name, t] : tables)
      if (table_arn(name) == arn) return &t;
    return nullptr;
  }
  const Table* table_by_name_or_arn(const std::string& s) const {
    if (auto it = tables.find(s); it != tables.end()) return &it->second;
    return table_by_arn(s);
  }

  std::string describe(const Export& x) const {
    Writer w;
    w.str("ExportArn", x.arn).str("ExportStatus", x.status).time("StartTime", x.start).time("EndTime", x.end);
    if (x.status == "COMPLETED")
      w.str("ExportManifest", (x.prefix.empty() ? "" : x.prefix + "/") + "AWSDynamoDB/" +
                                  x.arn.substr(x.arn.rfind('/') + 1) + "/manifest-summary.json");
    w.str("TableArn", x.table_arn).str("TableId", "e4b3c1a2-0000-4000-8000-00000000ab12");
    w.time("ExportTime", x.export_time).str("ClientToken", x.token).str("S3Bucket", x.bucket);
    w.str("S3BucketOwner", x.bucket_owner).str("S3Prefix", x.prefix).str("S3SseAlgorithm", x.sse);
    w.str("S3SseKmsKeyId", x.kms_key);
    if (x.status == "FAILED")
      w.str("FailureCode", x.schedule.failure_code).str("FailureMessage", x.schedule.failure_message);
    w.str("ExportFormat", x.format);
    if (x.status == "COMPLETED") {
      w.raw("BilledSizeBytes", std::to_string(x.schedule.billed_size_bytes));
      w.raw("ItemCount",
            std::to_string(x.backed ? static_cast<int64_t>(x.lines.size()) : x.schedule.item_count));
    }
    w.str("ExportType", x.type);
    if (x.type == "INCREMENTAL_EXPORT") {
      Writer spec;
      spec.time("ExportFromTime", x.from).time("ExportToTime", x.to).str("ExportViewType", x.view);
      w.raw("IncrementalExportSpecification", spec.done());
    }
    return w.done();
  }

  // Answers one valid request; a Failure is an AWS error answer (400).
  std::variant<std::string, Failure> handle(std::string_view op, simdjson::dom::element req) {
    const double now = now_seconds();
    if (op == "DescribeTable") {
      const std::string name = text(req, "TableName");
      const Table* t = table_by_name_or_arn(name);
      if (!t)
        return Failure{"ResourceNotFoundException",
                       "Requested resource not found: Table: " + name + " not found"};
      Writer table;
      table.str("TableName", t->name).str("TableArn", table_arn(t->name)).str("TableStatus", "ACTIVE");
      table.raw("KeySchema", R"([{"AttributeName":"id","KeyType":"HASH"}])").raw("ItemCount", "0");
      return Writer().raw("Table", table.done()).done();
    }
    if (op == "DescribeContinuousBackups") {
      const std::string name = text(req, "TableName");
      const Table* t = table_by_name_or_arn(name);
      if (!t) return Failure{"TableNotFoundException", "Table not found: " + name};
      Writer pitr;
      pitr.str("PointInTimeRecoveryStatus", t->pitr ? "ENABLED" : "DISABLED");
      if (t->pitr)
        pitr.time("EarliestRestorableDateTime", t->earliest).time("LatestRestorableDateTime", t->latest);
      Writer d;
      d.str("ContinuousBackupsStatus", "ENABLED").raw("PointInTimeRecoveryDescription", pitr.done());
      return Writer().raw("ContinuousBackupsDescription", d.done()).done();
    }
    if (op == "ExportTableToPointInTime") return start_export(req, now);
    if (op == "DescribeExport") {
      const std::string arn = text(req, "ExportArn");
      for (Export& x : exports) {
        if (x.arn != arn) continue;
        if (x.status == "IN_PROGRESS" && x.polls_left-- <= 0) {
          x.status = x.schedule.fail ? "FAILED" : "COMPLETED";
          x.end = now;
          if (x.status == "COMPLETED" && x.backed) {
            if (std::string broken = write_output(x); !broken.empty()) {
              x.status = "FAILED";
              x.schedule.failure_code = "S3WriteFailed";
              x.schedule.failure_message = broken;
            }
          }
        }
        return Writer().raw("ExportDescription", describe(x)).done();
      }
      return Failure{"ExportNotFoundException", "Export not found: " + arn};
    }
    // ListExports: creation order (oldest first, unlike AWS), so that the client's sorting shows.
    const std::string arn = text(req, "TableArn");
    int64_t max = 25;
    if (req["MaxResults"].get_int64().get(max)) max = 25;
    size_t begin = 0;
    if (const std::string token = text(req, "NextToken"); !token.empty()) {
      if (token.rfind("page-", 0) != 0) return Failure{"ValidationException", "Invalid NextToken"};
      begin = std::stoul(token.substr(5));
    }
    std::vector<const Export*> matching;
    for (const Export& x : exports)
      if (arn.empty() || x.table_arn == arn) matching.push_back(&x);
    std::string list = "[";
    size_t i = begin;
    for (; i < matching.size() && i < begin + static_cast<size_t>(max); ++i) {
      if (i > begin) list += ',';
      list += Writer()
                  .str("ExportArn", matching[i]->arn)
                  .str("ExportStatus", matching[i]->status)
                  .str("ExportType", matching[i]->type)
                  .done();
    }
    list += ']';
    Writer w;
    w.raw("ExportSummaries", list);
    if (i < matching.size()) w.str("NextToken", "page-" + std::to_string(i));
    return w.done();
  }

  std::variant<std::string, Failure> start_export(simdjson::dom::element req, double now) {
    const std::string table = text(req, "TableArn");
    const Table* t = table_by_arn(table);
    if (!t) return Failure{"TableNotFoundException", "Table not found: " + table};
    Export x;
    x.table_arn = table;
    x.token = text(req, "ClientToken");
    x.bucket = text(req, "S3Bucket");
    x.bucket_owner = text(req, "S3BucketOwner");
    x.prefix = text(req, "S3Prefix");
    x.sse = text(req, "S3SseAlgorithm");
    x.kms_key = text(req, "S3SseKmsKeyId");
    if (auto f = text(req, "ExportFormat"); !f.empty()) x.format = f;
    if (auto f = text(req, "ExportType"); !f.empty()) x.type = f;
    x.export_time = time_of(req, "ExportTime");
    simdjson::dom::element spec;
    const bool has_spec = !req["IncrementalExportSpecification"].get(spec);
    if (has_spec) {
      x.from = time_of(spec, "ExportFromTime");
      x.to = time_of(spec, "ExportToTime");
      x.view = text(spec, "ExportViewType");
      if (x.view.empty()) x.view = "NEW_AND_OLD_IMAGES";
    }
    if (!x.kms_key.empty() && x.sse != "KMS")
      return Failure{"ValidationException", "S3SseKmsKeyId is only valid with S3SseAlgorithm KMS"};

    // Idempotency: the parameters are the whole request but the token.
    std::string fingerprint;
    simdjson::dom::object fields;
    if (req.get_object().get(fields)) return Failure{"ValidationException", "not an object"};
    for (auto member : fields) {
      if (member.key == "ClientToken") continue;
      fingerprint += std::string(member.key) + "=" + simdjson::minify(member.value) + ";";
    }
    if (!x.token.empty()) {
      if (auto it = tokens.find(x.token); it != tokens.end()) {
        const Export& old = exports[it->second];
        if (old.fingerprint != fingerprint)
          return Failure{"IdempotentParameterMismatchException",
                         "Client token " + x.token + " was used with different parameters"};
        return Writer().raw("ExportDescription", describe(old)).done();
      }
    }

    if (!t->pitr)
      return Failure{"PointInTimeRecoveryUnavailableException",
                     "Point in time recovery is not enabled for table '" + t->name + "'"};
    if (x.type == "FULL_EXPORT") {
      if (has_spec)
        return Failure{"ValidationException",
                       "IncrementalExportSpecification is only valid with ExportType INCREMENTAL_EXPORT"};
      const double at = x.export_time.value_or(now);
      if (at > now) return Failure{"InvalidExportTimeException", "ExportTime is in the future"};
      if (x.export_time && (at < t->earliest || at > t->latest))
        return Failure{"InvalidExportTimeException",
                       "ExportTime is outside the point in time recovery window"};
    } else {
      if (x.export_time)
        return Failure{"ValidationException", "ExportTime is not valid with ExportType INCREMENTAL_EXPORT"};
      if (!has_spec || !x.from || !x.to)
        return Failure{
            "ValidationException",
            "INCREMENTAL_EXPORT needs IncrementalExportSpecification with ExportFromTime and ExportToTime"};
      if (*x.to - *x.from < kMinIncremental || *x.to - *x.from > kMaxIncremental)
        return Failure{"ValidationException", "The export period must be between 15 minutes and 24 hours"};
      if (*x.from < t->earliest)
        return Failure{"InvalidExportTimeException", "ExportFromTime is before EarliestRestorableDateTime"};
      if (*x.to > now) return Failure{"InvalidExportTimeException", "ExportToTime is in the future"};
    }

    const auto ms = std::max<int64_t>(static_cast<int64_t>(now * 1000), last_id_ms + 1);
    last_id_ms = ms;
    char id[40];
    std::snprintf(id, sizeof id, "%014lld-%08x", static_cast<long long>(ms), 0x5eed0000u + ++id_counter);
    x.arn = table + "/export/" + id;
    x.start = now;
    x.schedule = schedule;
    x.polls_left = schedule.polls_in_progress;
    x.fingerprint = fingerprint;
    if (backing) {
      if (auto failure = compute_output(x, *t, now)) return *failure;
    }
    exports.push_back(x);
    if (!x.token.empty()) tokens[x.token] = exports.size() - 1;
    return Writer().raw("ExportDescription", describe(exports.back())).done();
  }

  // The latest snapshot of table at or before t, or null.
  const Snapshot* snapshot_at(const std::string& table, double t) const {
    auto by_table = snapshots.find(table);
    if (by_table == snapshots.end()) return nullptr;
    auto it = by_table->second.upper_bound(t);
    if (it == by_table->second.begin()) return nullptr;
    return &std::prev(it)->second;
  }

  // The lines of x's data file, from the snapshots (or a scan now).
  std::optional<Failure> compute_output(Export& x, const Table& t, double now) {
    x.backed = true;
    if (x.type == "FULL_EXPORT") {
      const Snapshot* at = snapshot_at(t.name, x.export_time.value_or(now));
      Snapshot scanned;
      if (!x.export_time || !at) {
        auto result = scan_table(*backing, t.name);
        if (auto* e = std::get_if<std::string>(&result)) return Failure{"InternalServerError", *e};
        scanned = std::move(std::get<Snapshot>(result));
        at = &scanned;
      }
      for (const auto& [key, item] : *at) x.lines.push_back("{\"Item\":" + item + "}");
      return std::nullopt;
    }
    const Snapshot* before = snapshot_at(t.name, *x.from);
    const Snapshot* after = snapshot_at(t.name, *x.to);
    if (!before || !after)
      return Failure{"InvalidExportTimeException", "the test server has no snapshot of " + t.name +
                                                       " at or before ExportFromTime and ExportToTime"};
    // Every record says just before ExportToTime: when in the window each write happened is not known.
    const std::string micros = std::to_string(static_cast<int64_t>(std::llround(*x.to * 1e6)) - 1);
    const bool old_images = x.view == "NEW_AND_OLD_IMAGES";
    auto record = [&](const std::string& key, const std::string* old_item, const std::string* new_item) {
      std::string line =
          "{\"Metadata\":{\"WriteTimestampMicros\":{\"N\":\"" + micros + "\"}},\"Keys\":" + key;
      if (new_item) line += ",\"NewImage\":" + *new_item;
      if (old_images && old_item) line += ",\"OldImage\":" + *old_item;
      x.lines.push_back(line + "}");
    };
    for (const auto& [key, item] : *after) {
      auto old = before->find(key);
      if (old == before->end())
        record(key, nullptr, &item);
      else if (old->second != item)
        record(key, &old->second, &item);
    }
    for (const auto& [key, item] : *before)
      if (!after->count(key)) record(key, &item, nullptr);
    return std::nullopt;
  }

  // Writes x's output into S3 as a real export leaves it; an error message, or empty.
  std::string write_output(const Export& x) const {
    auto config = make_service_config("s3", backing_aws(*backing, backing->s3_endpoint), backing_env());
    if (!config) return config.error().message;
    S3Client s3(*config);
    const std::string id = x.arn.substr(x.arn.rfind('/') + 1);
    const std::string folder = (x.prefix.empty() ? "" : x.prefix + "/") + "AWSDynamoDB/" + id + "/";
    auto put = [&](const std::string& key, std::string_view body) -> std::string {
      auto etag = s3.put_object(x.bucket, key, body);
      return etag ? *etag : "!" + etag.error().message;
    };
    if (auto e = put(folder + "_started", ""); e.rfind('!', 0) == 0) return e.substr(1);
    std::string text;
    for (const auto& line : x.lines) text += line + "\n";
    const std::string data = gzip(text);
    const std::string data_key = folder + "data/" + id + "-0000.json.gz";
    const std::string etag = put(data_key, data);
    if (etag.rfind('!', 0) == 0) return etag.substr(1);
    const std::string files = Writer()
                                  .raw("itemCount", std::to_string(x.lines.size()))
                                  .str("md5Checksum", md5_base64(data))
                                  .str("etag", etag)
                                  .str("dataFileS3Key", data_key)
                                  .done() +
                              "\n";
    Writer summary;
    summary.str("version", "2020-06-30").str("exportArn", x.arn).str("startTime", iso_time(x.start));
    summary.str("endTime", iso_time(x.end.value_or(x.start))).str("tableArn", x.table_arn);
    summary.str("tableId", "e4b3c1a2-0000-4000-8000-00000000ab12");
    if (x.export_time) summary.str("exportTime", iso_time(*x.export_time));
    if (x.type == "INCREMENTAL_EXPORT")
      summary.str("exportFromTime", iso_time(*x.from))
          .str("exportToTime", iso_time(*x.to))
          .str("outputView", x.view);
    summary.str("s3Bucket", x.bucket).str("s3Prefix", x.prefix).str("s3SseAlgorithm", x.sse);
    summary.str("s3SseKmsKeyId", x.kms_key).str("manifestFilesS3Key", folder + "manifest-files.json");
    summary.raw("billedSizeBytes", std::to_string(text.size()))
        .raw("itemCount", std::to_string(x.lines.size()));
    summary.str("outputFormat", x.format).str("exportType", x.type);
    const std::string summary_text = summary.done();
    for (const auto& [name, body] :
         {std::pair<std::string, std::string>{"manifest-files", files}, {"manifest-summary", summary_text}}) {
      if (auto e = put(folder + name + ".json", body); e.rfind('!', 0) == 0) return e.substr(1);
      if (auto e = put(folder + name + ".checksum", md5_hex(body)); e.rfind('!', 0) == 0) return e.substr(1);
    }
    return {};
  }

  void serve(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    const std::string target = req.get_header_value("X-Amz-Target");
    const std::string op = target.rfind("DynamoDB_20120810.", 0) == 0 ? target.substr(18) : target;
    auto answer = [&](int status, const std::string& code, const std::string& body) {
      res.status = status;
      res.set_content(body, "application/x-amz-json-1.0");
      res.set_header("x-amzn-RequestId", "export-server-" + std::to_string(log.size()));
      log.push_back({op, req.body, status, code});
    };
    auto error = [&](const std::string& code, const std::string& message) {
      std::string body = "{\"__type\":";
      append_string(body, "com.amazonaws.dynamodb.v20120810#" + code);
      body += ",\"message\":";
      append_string(body, message);
      answer(400, code, body + "}");
    };
    if (throttle_left > 0 && throttle_skip-- <= 0) {
      --throttle_left;
      return error(throttle_code, "Rate of requests exceeds the allowed throughput");
    }
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("AWS4-HMAC-SHA256 Credential=", 0) != 0 ||
        auth.find("/dynamodb/aws4_request") == std::string::npos || !req.has_header("X-Amz-Date"))
      return error("MissingAuthenticationTokenException",
                   "Request is missing a SigV4 signature for dynamodb");
    if (req.get_header_value("Content-Type") != "application/x-amz-json-1.0")
      return error("SerializationException", "Content-Type must be application/x-amz-json-1.0");
    const auto& all = schemas();
    auto schema = all.find(op);
    if (target.rfind("DynamoDB_20120810.", 0) != 0 || schema == all.end())
      return error("UnknownOperationException", "Unknown operation " + target);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (parser.parse(req.body).get(doc) || doc.get_object().get(obj))
      return error("ValidationException", "The request body is not a JSON object");
    if (auto broken = validate(obj, schema->second, "")) return error("ValidationException", *broken);
    auto result = handle(op, doc);
    if (auto* f = std::get_if<Failure>(&result)) return error(f->code, f->message);
    answer(200, "", std::get<std::string>(result));
  }
};

ExportServer::ExportServer() : state_(std::make_unique<State>()) {
  state_->http.server().Post(
      "/", [this](const httplib::Request& req, httplib::Response& res) { state_->serve(req, res); });
  state_->http.start();
}

ExportServer::~ExportServer() { state_->http.stop(); }

std::string ExportServer::url() const { return state_->http.url(); }

std::string ExportServer::table_arn(const std::string& table) {
  return std::string("arn:aws:dynamodb:") + kRegion + ":" + kAccount + ":table/" + table;
}

void ExportServer::add_table(const std::string& name, bool pitr_enabled, std::optional<double> earliest,
                             std::optional<double> latest) {
  std::lock_guard lock(state_->mu);
  const double now = now_seconds();
  state_->tables[name] = {name, pitr_enabled, earliest.value_or(now - 35 * 86400.0),
                          latest.value_or(now - 300)};
}

void ExportServer::set_schedule(const Schedule& schedule) {
  std::lock_guard lock(state_->mu);
  state_->schedule = schedule;
}

void ExportServer::throttle_next(int k, const std::string& code, int skip) {
  std::lock_guard lock(state_->mu);
  state_->throttle_skip = skip;
  state_->throttle_left = k;
  state_->throttle_code = code;
}

void ExportServer::write_exports(const Backing& backing) {
  std::lock_guard lock(state_->mu);
  state_->backing = backing;
}

std::string ExportServer::record_snapshot(const std::string& table, double at) {
  std::optional<Backing> backing;
  {
    std::lock_guard lock(state_->mu);
    backing = state_->backing;
  }
  if (!backing) return "write_exports() was not called: there is no table to scan";
  auto result = scan_table(*backing, table);
  if (auto* e = std::get_if<std::string>(&result)) return *e;
  std::lock_guard lock(state_->mu);
  state_->snapshots[table][at] = std::move(std::get<Snapshot>(result));
  return {};
}

std::vector<ExportServer::Request> ExportServer::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->log;
}

int ExportServer::succeeded(std::string_view operation) const {
  std::lock_guard lock(state_->mu);
  return static_cast<int>(std::count_if(state_->log.begin(), state_->log.end(), [&](const Request& r) {
    return r.operation == operation && r.status == 200;
  }));
}

int ExportServer::exports_created() const {
  std::lock_guard lock(state_->mu);
  return static_cast<int>(state_->exports.size());
}

}  // namespace ddb2s3::testing

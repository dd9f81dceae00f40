// Helpers for the end-to-end tests of scan mode (scan_test, cli_test): tables filled in dynalite, buckets
// in s3rver, a run's files read back from S3 or a directory and decompressed, and a small JSON reader that
// keeps number tokens verbatim so that outputs are compared digit for digit (never through a double).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/environment.h"
#include "base/result.h"
#include "scan/compress.h"
#include "scan/scan.h"
#include "sink/sink.h"
#include "support/files.h"

namespace ddb2s3::testing {

// A JSON value as written: numbers keep their token's text, strings are decoded.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  // An object's member, `const auto& [name, value] = member`. Defined after Json: a vector of a
  // still-incomplete class is allowed (C++17); std::pair<std::string, Json> is not (clang rejects it).
  struct Member;

  Kind kind = Kind::kNull;
  std::string text;             // number token, decoded string, or "true"/"false"
  std::vector<Member> members;  // objects, in document order
  std::vector<Json> elements;   // arrays

  const Json* find(std::string_view name) const;  // an object's member, or null
  bool is(Kind k) const { return kind == k; }
};

struct Json::Member {
  std::string name;
  Json value;
};

// Strict JSON (one value, nothing after it but whitespace); the error names the offset.
Result<Json> parse_json(std::string_view text);

// Canonical text of a value: members sorted by name, strings re-escaped one way, numbers verbatim.
std::string canonical_json(const Json& value);

// A typed DynamoDB item ({"a":{"S":"x"},...}) in canonical form, with SS/NS/BS compared as sets.
std::string canonical_typed_item(const Json& typed_item);

// The plain JSON a typed item should become in jsonl output: N as the number token (digits verbatim),
// B as its base64 string, sets as arrays (sorted: their order is not kept), M as objects, L as arrays.
std::string expected_plain_item(const Json& typed_item);

// A jsonl line's item in the same canonical form, arrays sorted where the typed item has a set.
std::string canonical_plain_item(const Json& plain_item, const Json& typed_item);

// Test items: typed JSON of items with every attribute type, and what DynamoDB gives back for each
// (the same item with numbers in the canonical form dynalite stores: 1E-130 -> 0.000...1).
struct TestItem {
  std::string id;
  std::string written;   // as sent with BatchWriteItem
  std::string expected;  // as Scan returns it
};
std::vector<TestItem> every_type_items();

// `count` simple items: id "item-00000".., n (a number), g ("even"/"odd", the hash key of index "by-g"),
// and a string of pad_bytes characters.
std::vector<TestItem> simple_items(int count, size_t pad_bytes = 40);

// The local servers (dynalite, s3rver) with the credentials they accept, a region, and a temp HOME, so
// that no real ~/.aws or AWS_* variable is ever read.
class LocalAws {
 public:
  LocalAws();
  ~LocalAws();

  const Environment& env() const { return env_; }
  // The same settings as variables for a child process (AWS_ACCESS_KEY_ID, ..., HOME).
  const std::map<std::string, std::string>& env_vars() const { return vars_; }
  const std::string& dynamodb_endpoint() const;
  const std::string& s3_endpoint() const;

  // ScanOptions for table -> dest over the local servers (everything else at its default).
  ScanOptions scan_options(const std::string& table, const Destination& dest) const;
  FinalizeOptions finalize_options(const Destination& dest, const std::string& run_id) const;
  // The ddb2s3 program's arguments `scan TABLE DEST` over the local servers, then extra.
  std::vector<std::string> scan_argv(const std::string& table, const std::string& dest,
                                     const std::vector<std::string>& extra = {}) const;

  // Table with hash key "id" (S) and, when with_index, a global secondary index "by-g" on "g" (S).
  Status create_table(const std::string& table, bool with_index = false);
  Status put_items(const std::string& table, const std::vector<TestItem>& items);
  // create_table + put_items under a unique name; fails the calling test on error.
  std::string make_table(const std::string& prefix, const std::vector<TestItem>& items,
                         bool with_index = false);
  Status create_bucket(const std::string& bucket);
  std::string make_bucket(const std::string& prefix);  // fails the calling test on error

  // An object (S3) or file (directory) as stored, with S3's listed ETag (empty for files).
  struct Stored {
    std::string key;  // full S3 key, or the path relative to the directory
    std::string etag;
    uint64_t size = 0;
    std::string bytes;
  };
  // Everything whose key starts with dest.key(relative_prefix), sorted by key, with contents.
  Result<std::vector<Stored>> read_all(const Destination& dest, const std::string& relative_prefix);
  // One object or file; nullopt when absent.
  Result<std::optional<std::string>> read(const Destination& dest, const std::string& relative_key);

 private:
  TempDir home_;
  Environment env_;
  std::map<std::string, std::string> vars_;
  struct Clients;
  std::unique_ptr<Clients> clients_;
};

// Decompresses a whole data file (gzip with zlib: any number of members; zstd with libzstd; none).
Result<std::string> decompress(std::string_view bytes, Compression compression);

// Lines of a text, each without its '\n'; the error says so when the text does not end with one.
Result<std::vector<std::string>> split_lines(std::string_view text);

// Every line of a run's data files (RUN/data/...), in key order, decompressed.
Result<std::vector<std::string>> read_run_lines(LocalAws& aws, const Destination& dest,
                                                const std::string& run_id, Compression compression);

}  // namespace ddb2s3::testing

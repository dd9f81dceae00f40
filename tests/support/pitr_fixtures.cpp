#include "support/pitr_fixtures.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>

#include "aws/session.h"
#include "support/servers.h"

namespace ddb2s3::testing {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> snapshot_items(LocalAws& aws, const Destination& dest) {
  std::vector<std::string> items;
  auto stored = aws.read_all(dest, "data/");
  EXPECT_TRUE(stored.ok()) << stored.error().to_string();
  if (!stored) return items;
  for (const auto& object : *stored) {
    auto text = decompress(object.bytes, Compression::kGzip);
    EXPECT_TRUE(text.ok()) << object.key;
    if (!text) continue;
    auto lines = split_lines(*text);
    EXPECT_TRUE(lines.ok()) << object.key;
    if (!lines) continue;
    for (const auto& line : *lines) {
      auto json = parse_json(line);
      EXPECT_TRUE(json.ok()) << line;
      const Json* item = json ? json->find("Item") : nullptr;
      EXPECT_NE(item, nullptr) << line;
      if (item) items.push_back(canonical_typed_item(*item));
    }
  }
  std::sort(items.begin(), items.end());
  return items;
}

void PitrFixture::open(const std::string& prefix) {
  server_.write_exports({aws_.dynamodb_endpoint(), aws_.s3_endpoint(), kTestAccessKey, kTestSecretKey});
  table_ = aws_.make_table(prefix, {});
  bucket_ = aws_.make_bucket(prefix);
  server_.add_table(table_);
  auto config = make_service_config("dynamodb", AwsOptions{"", "", aws_.dynamodb_endpoint()}, aws_.env());
  ASSERT_TRUE(config.ok());
  ddb_ = std::make_unique<DynamoDbClient>(*config);
  auto s3_config = make_service_config("s3", AwsOptions{"", "", aws_.s3_endpoint()}, aws_.env());
  ASSERT_TRUE(s3_config.ok());
  s3_ = std::make_unique<S3Client>(*s3_config);
}

void PitrFixture::put(const std::vector<std::string>& items) {
  auto s = ddb_->batch_write(table_, items);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
}

void PitrFixture::remove(const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids) keys.push_back(R"({"id":{"S":")" + id + R"("}})");
  auto s = ddb_->batch_delete(table_, keys);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
}

void PitrFixture::snapshot(double at) { ASSERT_EQ(server_.record_snapshot(table_, at), ""); }

std::vector<std::string> PitrFixture::scanned() {
  std::vector<std::string> items;
  ScanRequest request;
  request.table_name = table_;
  request.consistent_read = true;
  simdjson::dom::parser parser;
  do {
    auto page = ddb_->scan(request);
    EXPECT_TRUE(page.ok());
    if (!page) break;
    simdjson::dom::element doc;
    simdjson::dom::array array;
    EXPECT_FALSE(parser.parse(page->body).get(doc) || doc["Items"].get_array().get(array));
    for (simdjson::dom::element item : array)
      items.push_back(canonical_typed_item(*parse_json(simdjson::minify(item))));
    request.exclusive_start_key_json = page->last_evaluated_key_json;
  } while (!request.exclusive_start_key_json.empty());
  std::sort(items.begin(), items.end());
  return items;
}

Destination PitrFixture::folder(const std::string& prefix) const {
  Destination d;
  d.is_s3 = true;
  d.bucket = bucket_;
  d.prefix = prefix;
  return d;
}

std::vector<std::string> PitrFixture::items_at(const std::string& prefix) {
  return snapshot_items(aws_, folder(prefix));
}

}  // namespace ddb2s3::testing

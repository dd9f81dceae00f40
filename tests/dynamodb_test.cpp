// The DynamoDB client against real dynalite (a table of a few thousand varied items, some large enough
// that pages split at 1 MB), plus request-body unit tests and a test server for faults dynalite never
// produces (UnprocessedItems, corrupted answers, a table that stays CREATING).
#include "dynamodb/dynamodb.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "support/aws_fixtures.h"
#include "support/http_server.h"
#include "support/servers.h"

namespace ddb2s3 {
namespace {

using ::ddb2s3::testing::local_servers;
using ::ddb2s3::testing::TestHttpServer;
using ::ddb2s3::testing::unique_name;
using std::chrono::milliseconds;

// Time that moves only when the code under test sleeps; the sleeps are recorded.
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<milliseconds> sleeps;
  RetryClock clock() {
    RetryClock c;
    c.now = [this] { return now; };
    c.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      now += d;
    };
    c.uniform01 = [] { return 0.5; };
    return c;
  }
};

std::shared_ptr<ServiceConfig> make_config(const std::string& endpoint) {
  return testing::test_service_config("dynamodb", endpoint);
}

// ---------------------------------------------------------------------------------------------------
// Request bodies

TEST(BuildScanBody, OnlyTheTableWhenNothingElseIsSet) {
  ScanRequest r;
  r.table_name = "orders";
  auto body = build_scan_body(r);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(*body, R"({"TableName":"orders"})");
}

TEST(BuildScanBody, EveryFieldInOrderWithRawFragmentsVerbatim) {
  ScanRequest r;
  r.table_name = "orders";
  r.index_name = "by_date";
  r.filter_expression = "#s = :s";
  r.projection_expression = "id, #s";
  r.expression_attribute_names_json = "  {\"#s\": \"status\"}\n";
  r.expression_attribute_values_json = R"({":s":{"S":"open"}})";
  r.consistent_read = false;
  r.limit = 500;
  r.segment = 3;
  r.total_segments = 8;
  r.exclusive_start_key_json = R"({"id":{"S":"k"}})";
  r.select = "SPECIFIC_ATTRIBUTES";
  r.return_consumed_capacity = "TOTAL";
  r.extra_json = R"( {"ConditionalOperator": "AND", "ScanFilter":{}} )";
  auto body = build_scan_body(r);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(
      *body,
      R"({"TableName":"orders","IndexName":"by_date","FilterExpression":"#s = :s",)"
      R"("ProjectionExpression":"id, #s","ExpressionAttributeNames":{"#s": "status"},)"
      R"("ExpressionAttributeValues":{":s":{"S":"open"}},"ExclusiveStartKey":{"id":{"S":"k"}},)"
      R"("ConsistentRead":false,"Limit":500,"Segment":3,"TotalSegments":8,"Select":"SPECIFIC_ATTRIBUTES",)"
      R"("ReturnConsumedCapacity":"TOTAL","ConditionalOperator": "AND", "ScanFilter":{}})");
  simdjson::dom::parser parser;
  EXPECT_FALSE(parser.parse(*body).error());
}

TEST(BuildScanBody, EscapesStrings) {
  ScanRequest r;
  r.table_name = "t";
  r.filter_expression = "a = \"q\" \\ \n\t\x01 é";
  auto body = build_scan_body(r);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(*body, "{\"TableName\":\"t\",\"FilterExpression\":\"a = \\\"q\\\" \\\\ \\n\\t\\u0001 é\"}");
  simdjson::dom::parser parser;
  std::string_view back;
  ASSERT_FALSE(parser.parse(*body)["FilterExpression"].get_string().get(back));
  EXPECT_EQ(back, r.filter_expression);
}

TEST(BuildScanBody, EmptyExtraObjectAddsNothing) {
  ScanRequest r;
  r.table_name = "t";
  r.extra_json = " { } ";
  auto body = build_scan_body(r);
  ASSERT_TRUE(body) << body.error().to_string();
  EXPECT_EQ(*body, R"({"TableName":"t"})");
}

TEST(BuildScanBody, RejectsBadInputAsUsageErrors) {
  auto usage_error = [](ScanRequest r) -> std::string {
    if (r.table_name.empty()) r.table_name = "t";
    auto body = build_scan_body(r);
    if (body) return "accepted: " + *body;
    EXPECT_EQ(body.error().kind, ErrorKind::kUsage);
    return body.error().message;
  };
  ScanRequest r;
  r.expression_attribute_values_json = R"({":v":{"N":"1"})";  // unbalanced
  EXPECT_NE(usage_error(r).find("ExpressionAttributeValues is not valid JSON"), std::string::npos);
  r = {};
  r.expression_attribute_names_json = R"(["#a"])";
  EXPECT_NE(usage_error(r).find("ExpressionAttributeNames must be a JSON object"), std::string::npos);
  r = {};
  r.exclusive_start_key_json = "{\"id\":{\"S\":\"a\"}} trailing";
  EXPECT_NE(usage_error(r).find("ExclusiveStartKey"), std::string::npos);
  r = {};
  r.extra_json = R"({"Limit":5})";
  r.limit = 10;
  EXPECT_NE(usage_error(r).find("Limit is given twice"), std::string::npos);
  r = {};
  r.extra_json = "not json";
  EXPECT_NE(usage_error(r).find("extra Scan fields is not valid JSON"), std::string::npos);
  r = {};
  r.segment = 1;
  EXPECT_NE(usage_error(r).find("together"), std::string::npos);
  r = {};
  r.segment = 4;
  r.total_segments = 4;
  EXPECT_NE(usage_error(r).find("Segment must be in"), std::string::npos);
  r = {};
  r.limit = 0;
  EXPECT_NE(usage_error(r).find("Limit must be from 1 to 2147483647, not 0"), std::string::npos);
  r = {};
  r.limit = 4294967297;  // DynamoDB's Limit is an Integer (32 bits)
  EXPECT_NE(usage_error(r).find("Limit must be from 1 to 2147483647, not 4294967297"), std::string::npos);
  r = {};
  r.filter_expression = "a = \xff";
  EXPECT_NE(usage_error(r).find("FilterExpression is not valid UTF-8"), std::string::npos);
  r = {};
  r.table_name = "";
  auto body = build_scan_body(r);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().kind, ErrorKind::kUsage);
}

TEST(BuildCreateTableBody, DefinesEachKeyAttributeOnce) {
  CreateTableRequest r;
  r.table_name = "t";
  r.hash_key = {"id", "S"};
  r.range_key = KeyAttribute{"ts", "N"};
  r.global_secondary_indexes.push_back({"by_ts", {"ts", "N"}, KeyAttribute{"id", "S"}});
  EXPECT_EQ(
      build_create_table_body(r),
      R"({"TableName":"t","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},)"
      R"({"AttributeName":"ts","AttributeType":"N"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"},)"
      R"({"AttributeName":"ts","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST",)"
      R"("GlobalSecondaryIndexes":[{"IndexName":"by_ts","KeySchema":[{"AttributeName":"ts","KeyType":"HASH"},)"
      R"({"AttributeName":"id","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]})");
}

// ---------------------------------------------------------------------------------------------------
// Against dynalite: one table of kItems varied items shared by the scan tests.

constexpr int kItems = 3000;
constexpr size_t kBigSize = 120 * 1000;  // every 100th item: 30 x 120 KB, so pages split at 1 MB

bool has_group(int i) { return i % 7 != 0; }
std::string group_of(int i) { return "g" + std::to_string(i % 10); }
std::string id_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "item-%05d", i);
  return buf;
}

std::string make_item(int i) {
  std::string item = "{\"id\":{\"S\":\"" + id_of(i) + "\"},\"n\":{\"N\":\"" + std::to_string(i) + "\"}";
  if (has_group(i)) item += ",\"group\":{\"S\":\"" + group_of(i) + "\"}";
  item += R"(,"price":{"N":"12345678901234567890.12345678901234567"},"flag":{"BOOL":)";
  item += (i % 2 == 0 ? "true" : "false");
  item += R"(},"none":{"NULL":true},"tags":{"SS":["a","b \"quoted\""]},"nums":{"NS":["1","2.5"]},)";
  item += R"("bin":{"B":"AAEC/w=="},"m":{"M":{"k":{"S":"v é ☃"},"l":{"L":[{"N":"1"},{"S":"x"}]}}})";
  if (i % 100 == 0) item += ",\"big\":{\"S\":\"" + std::string(kBigSize, 'x') + "\"}";
  item += '}';
  return item;
}

struct SeenItem {
  std::string id;
  std::set<std::string> attributes;
};

struct ScanResult {
  int pages = 0;
  int64_t count = 0;
  int64_t scanned_count = 0;
  std::vector<SeenItem> items;
  std::vector<int64_t> page_counts;
  double capacity_units = 0;
};

// The test's own page loop: follows LastEvaluatedKey, parses each page's Items like the transcoder will.
ScanResult scan_all(DynamoDbClient& client, ScanRequest request) {
  ScanResult out;
  simdjson::ondemand::parser parser;
  for (;;) {
    auto page = client.scan(request);
    EXPECT_TRUE(page) << page.error().to_string();
    if (!page) return out;
    ++out.pages;
    out.count += page->count;
    out.scanned_count += page->scanned_count;
    out.page_counts.push_back(page->count);
    if (page->consumed_capacity_units) out.capacity_units += *page->consumed_capacity_units;
    EXPECT_GE(page->body.capacity(), page->body.size() + simdjson::SIMDJSON_PADDING);

    auto doc = parser.iterate(page->body);  // compiles only because the capacity leaves the padding
    simdjson::ondemand::array items;
    if (doc["Items"].get_array().get(items) == simdjson::SUCCESS) {
      for (auto item_result : items) {
        SeenItem seen;
        simdjson::ondemand::object item;
        EXPECT_EQ(item_result.get_object().get(item), simdjson::SUCCESS);
        for (auto field : item) {
          std::string_view key = field.unescaped_key().value();
          seen.attributes.emplace(key);
          if (key == "id") seen.id = std::string(field.value()["S"].get_string().value());
        }
        out.items.push_back(std::move(seen));
      }
    }
    request.exclusive_start_key_json = page->last_evaluated_key_json;
    client.recycle(std::move(page->body));
    if (request.exclusive_start_key_json.empty()) return out;
    if (out.pages > 10'000) {
      ADD_FAILURE() << "scan does not end";
      return out;
    }
  }
}

std::map<std::string, int> id_counts(const ScanResult& r) {
  std::map<std::string, int> counts;
  for (const auto& item : r.items) ++counts[item.id];
  return counts;
}

class DynaliteTable : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    table_ = new std::string(unique_name("scan"));
    DynamoDbClient client(make_config(local_servers().dynamodb));
    CreateTableRequest create;
    create.table_name = *table_;
    create.hash_key = {"id", "S"};
    create.global_secondary_indexes.push_back({"by_group", {"group", "S"}, KeyAttribute{"n", "N"}});
    Status created = client.create_table(create);
    ASSERT_TRUE(created) << created.error().to_string();
    auto active = client.wait_until_active(*table_);
    ASSERT_TRUE(active) << active.error().to_string();
    std::vector<std::string> items;
    for (int i = 0; i < kItems; ++i) items.push_back(make_item(i));
    Status written = client.batch_write(*table_, items);
    ASSERT_TRUE(written) << written.error().to_string();
  }
  static void TearDownTestSuite() {
    DynamoDbClient client(make_config(local_servers().dynamodb));
    (void)client.delete_table(*table_);
    delete table_;
    table_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(table_, nullptr); }

  static const std::string& table() { return *table_; }
  DynamoDbClient client_{make_config(local_servers().dynamodb)};

 private:
  static std::string* table_;
};
std::string* DynaliteTable::table_ = nullptr;

TEST_F(DynaliteTable, ScanPagesThroughEveryItemExactlyOnce) {
  ScanRequest r;
  r.table_name = table();
  ScanResult result = scan_all(client_, r);
  EXPECT_EQ(result.count, kItems);
  EXPECT_EQ(result.scanned_count, kItems);
  EXPECT_EQ(result.items.size(), static_cast<size_t>(kItems));
  EXPECT_GE(result.pages, 4) << "30 items of 120 KB must split into several 1 MB pages";
  auto counts = id_counts(result);
  EXPECT_EQ(counts.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(counts[id_of(i)], 1) << id_of(i);
  int with_big = 0;
  for (const auto& item : result.items) with_big += item.attributes.count("big");
  EXPECT_EQ(with_big, kItems / 100);
}

TEST_F(DynaliteTable, LimitCapsEachPage) {
  ScanRequest r;
  r.table_name = table();
  r.limit = 170;
  auto first = client_.scan(r);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->count, 170);
  EXPECT_EQ(first->scanned_count, 170);
  EXPECT_FALSE(first->last_evaluated_key_json.empty());

  ScanResult all = scan_all(client_, r);
  EXPECT_EQ(all.count, kItems);
  for (int64_t c : all.page_counts) EXPECT_LE(c, 170);
  EXPECT_GE(all.pages, kItems / 170);
  EXPECT_EQ(id_counts(all).size(), static_cast<size_t>(kItems));
}

TEST_F(DynaliteTable, ParallelScanSegmentsCoverEveryItemOnce) {
  std::map<std::string, int> counts;
  for (int segment = 0; segment < 4; ++segment) {
    ScanRequest r;
    r.table_name = table();
    r.segment = segment;
    r.total_segments = 4;
    ScanResult part = scan_all(client_, r);
    EXPECT_GT(part.count, 0) << "segment " << segment;
    EXPECT_EQ(part.items.size(), static_cast<size_t>(part.count));
    for (const auto& item : part.items) ++counts[item.id];
  }
  EXPECT_EQ(counts.size(), static_cast<size_t>(kItems));
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
}

TEST_F(DynaliteTable, FilterExpressionWithNamesAndValues) {
  ScanRequest r;
  r.table_name = table();
  r.filter_expression = "#g = :g AND n < :max";
  r.expression_attribute_names_json = R"({"#g":"group"})";
  r.expression_attribute_values_json = R"({":g":{"S":"g3"},":max":{"N":"1000"}})";
  ScanResult result = scan_all(client_, r);
  std::set<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    if (has_group(i) && group_of(i) == "g3") expected.insert(id_of(i));
  }
  std::set<std::string> seen;
  for (const auto& item : result.items) seen.insert(item.id);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(result.count, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(result.scanned_count, kItems);
}

TEST_F(DynaliteTable, ProjectionExpressionWithNames) {
  ScanRequest r;
  r.table_name = table();
  r.projection_expression = "#i, #m.k";
  r.expression_attribute_names_json = R"({"#i":"id","#m":"m"})";
  r.limit = 300;
  auto page = client_.scan(r);
  ASSERT_TRUE(page) << page.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  ASSERT_FALSE(parser.parse(page->body)["Items"].get_array().get(items));
  ASSERT_EQ(items.size(), 300u);
  for (simdjson::dom::element item : items) {
    simdjson::dom::object o = item.get_object().value();
    EXPECT_EQ(o.size(), 2u);
    EXPECT_TRUE(o["id"].is_object());
    std::string_view k;
    ASSERT_FALSE(item["m"]["M"]["k"]["S"].get_string().get(k));
    EXPECT_EQ(k, "v é ☃");
  }
}

TEST_F(DynaliteTable, SelectCountReturnsNoItems) {
  ScanRequest r;
  r.table_name = table();
  r.select = "COUNT";
  ScanResult result = scan_all(client_, r);
  EXPECT_EQ(result.count, kItems);
  EXPECT_TRUE(result.items.empty());
}

TEST_F(DynaliteTable, ScanOfGlobalSecondaryIndexSeesOnlyIndexedItems) {
  ScanRequest r;
  r.table_name = table();
  r.index_name = "by_group";
  ScanResult result = scan_all(client_, r);
  int expected = 0;
  for (int i = 0; i < kItems; ++i) expected += has_group(i);
  EXPECT_EQ(result.count, expected);
  for (const auto& item : result.items) EXPECT_TRUE(item.attributes.count("group")) << item.id;
  EXPECT_EQ(id_counts(result).size(), static_cast<size_t>(expected));
}

TEST_F(DynaliteTable, ExtraJsonPassesLegacyFieldsThrough) {
  ScanRequest r;
  r.table_name = table();
  r.extra_json = R"({"ConsistentRead":true,"AttributesToGet":["id","n"],)"
                 R"("ScanFilter":{"group":{"AttributeValueList":[{"S":"g5"}],"ComparisonOperator":"EQ"}}})";
  ScanResult result = scan_all(client_, r);
  int expected = 0;
  for (int i = 0; i < kItems; ++i) expected += has_group(i) && group_of(i) == "g5";
  EXPECT_EQ(result.count, expected);
  for (const auto& item : result.items) {
    EXPECT_EQ(item.attributes, (std::set<std::string>{"id", "n"})) << item.id;
  }
}

TEST_F(DynaliteTable, ReportsConsumedCapacityWhenAsked) {
  ScanRequest r;
  r.table_name = table();
  r.limit = 10;
  auto plain = client_.scan(r);
  ASSERT_TRUE(plain) << plain.error().to_string();
  EXPECT_FALSE(plain->consumed_capacity_units.has_value());
  r.return_consumed_capacity = "TOTAL";
  auto page = client_.scan(r);
  ASSERT_TRUE(page) << page.error().to_string();
  ASSERT_TRUE(page->consumed_capacity_units.has_value());
  EXPECT_GT(*page->consumed_capacity_units, 0);
}

TEST_F(DynaliteTable, DescribeTableGivesKeySchemaArnAndIndexes) {
  auto d = client_.describe_table(table());
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->table_name, table());
  EXPECT_EQ(d->table_status, "ACTIVE");
  EXPECT_EQ(d->table_arn.rfind("arn:aws:dynamodb:", 0), 0u) << d->table_arn;
  EXPECT_TRUE(d->table_arn.ends_with(":table/" + table())) << d->table_arn;
  ASSERT_EQ(d->key_schema.size(), 1u);
  EXPECT_EQ(d->key_schema[0].attribute_name, "id");
  EXPECT_EQ(d->key_schema[0].key_type, "HASH");
  EXPECT_EQ(d->index_names, std::vector<std::string>{"by_group"});
  EXPECT_EQ(d->billing_mode, "PAY_PER_REQUEST");
}

TEST_F(DynaliteTable, BadFilterExpressionIsAValidationErrorWithItsMessage) {
  ScanRequest r;
  r.table_name = table();
  r.filter_expression = "n <<< :x";
  r.expression_attribute_values_json = R"({":x":{"N":"1"}})";
  auto page = client_.scan(r);
  ASSERT_FALSE(page);
  const Error& e = page.error();
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.kind, ErrorKind::kClient);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_NE(e.message.find("FilterExpression"), std::string::npos) << e.message;
  EXPECT_NE(e.to_string().find(e.message), std::string::npos);
  EXPECT_NE(e.to_string().find("Scan on table '" + table() + "'"), std::string::npos) << e.to_string();
}

TEST_F(DynaliteTable, BadRawJsonFailsBeforeAnyRequest) {
  ScanRequest r;
  r.table_name = table();
  r.expression_attribute_values_json = "{\":x\":";
  auto page = client_.scan(r);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(page.error().operation, "Scan");
}

TEST(Dynalite, MissingTableNamesTheTableAndWhereItLooked) {
  DynamoDbClient client(make_config(local_servers().dynamodb));
  const std::string missing = unique_name("missing");
  ScanRequest r;
  r.table_name = missing;
  auto page = client.scan(r);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, "ResourceNotFoundException");
  EXPECT_FALSE(page.error().retryable());
  const std::string text = page.error().to_string();
  EXPECT_NE(text.find("Scan on table '" + missing + "'"), std::string::npos) << text;
  EXPECT_NE(text.find("check the table name and the region of the table's side (looked in us-east-1 at " +
                      local_servers().dynamodb + ")"),
            std::string::npos)
      << text;

  auto d = client.describe_table(missing);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "ResourceNotFoundException");
  EXPECT_NE(d.error().to_string().find("DescribeTable on table '" + missing + "'"), std::string::npos);
}

TEST(Dynalite, CreateDescribeDeleteTableWithRangeKey) {
  DynamoDbClient client(make_config(local_servers().dynamodb));
  CreateTableRequest create;
  create.table_name = unique_name("life");
  create.hash_key = {"pk", "S"};
  create.range_key = KeyAttribute{"sk", "N"};
  create.global_secondary_indexes.push_back({"by_sk", {"sk", "N"}, std::nullopt});
  Status created = client.create_table(create);
  ASSERT_TRUE(created) << created.error().to_string();
  auto d = client.wait_until_active(create.table_name);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->table_status, "ACTIVE");
  ASSERT_EQ(d->key_schema.size(), 2u);
  EXPECT_EQ(d->key_schema[1].attribute_name, "sk");
  EXPECT_EQ(d->key_schema[1].key_type, "RANGE");
  EXPECT_EQ(d->index_names, std::vector<std::string>{"by_sk"});

  Status again = client.create_table(create);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ResourceInUseException");

  Status deleted = client.delete_table(create.table_name);
  ASSERT_TRUE(deleted) << deleted.error().to_string();
  auto gone = client.describe_table(create.table_name);  // deleted in the background, as in AWS
  if (gone) {
    EXPECT_EQ(gone->table_status, "DELETING");
  } else {
    EXPECT_EQ(gone.error().code, "ResourceNotFoundException");
  }
}

TEST(Dynalite, BatchWriteRejectsAnItemThatIsNotAnObject) {
  DynamoDbClient client(make_config(local_servers().dynamodb));
  Status s = client.batch_write("whatever", {R"({"id":{"S":"a"}})", R"(["id"])"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
  EXPECT_NE(s.error().message.find("item 1"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------
// A test server for answers dynalite never gives.

uint32_t crc32_of(std::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void answer(httplib::Response& res, const std::string& body, bool corrupt_crc = false) {
  res.set_header("x-amzn-RequestId", "TESTREQUEST");
  res.set_header("x-amz-crc32", std::to_string(crc32_of(body) + (corrupt_crc ? 1u : 0u)));
  res.set_content(body, "application/x-amz-json-1.0");
}

class FakeDynamoDb : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      targets_.push_back(req.get_header_value("X-Amz-Target"));
      bodies_.push_back(req.body);
      content_types_.push_back(req.get_header_value("Content-Type"));
      handler_(req, res);
    });
    server_.start();
    config_ = make_config(server_.url());
    config_->retry.max_attempts = 3;
    config_->clock = time_.clock();
  }
  DynamoDbClient client() { return DynamoDbClient(config_); }

  TestHttpServer server_;
  std::shared_ptr<ServiceConfig> config_;
  FakeTime time_;
  std::mutex mu_;
  std::function<void(const httplib::Request&, httplib::Response&)> handler_;
  std::vector<std::string> targets_, bodies_, content_types_;
};

TEST_F(FakeDynamoDb, BatchWriteResendsUnprocessedItemsWithBackOff) {
  int calls = 0;
  handler_ = [&calls](const httplib::Request&, httplib::Response& res) {
    ++calls;
    if (calls == 1) {
      answer(res, R"({"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"id":{"S":"b"}}}},)"
                  R"({"PutRequest":{"Item":{"id":{"S":"d \"x\""}}}}]}})");
    } else {
      answer(res, R"({"UnprocessedItems":{}})");
    }
  };
  auto c = client();
  Status s = c.batch_write("t", {R"({"id":{"S":"a"}})", R"({"id":{"S":"b"}})", R"({"id":{"S":"c"}})",
                                 R"({"id":{"S":"d \"x\""}})"});
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_EQ(bodies_.size(), 2u);
  EXPECT_EQ(targets_[0], "DynamoDB_20120810.BatchWriteItem");
  EXPECT_EQ(content_types_[0], "application/x-amz-json-1.0");
  EXPECT_EQ(bodies_[1], R"({"RequestItems":{"t":[{"PutRequest":{"Item":{"id":{"S":"b"}}}},)"
                        R"({"PutRequest":{"Item":{"id":{"S":"d \"x\""}}}}]}})");
  ASSERT_EQ(time_.sleeps.size(), 1u);  // one back-off, on the injected clock
  EXPECT_GT(time_.sleeps[0].count(), 0);
}

TEST_F(FakeDynamoDb, BatchWriteSplitsIntoBatchesOf25) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(res, R"({"UnprocessedItems":{}})");
  };
  std::vector<std::string> items;
  for (int i = 0; i < 60; ++i) items.push_back("{\"id\":{\"N\":\"" + std::to_string(i) + "\"}}");
  auto c = client();
  Status s = c.batch_write("t", items);
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_EQ(bodies_.size(), 3u);
  simdjson::dom::parser parser;
  size_t sizes[3];
  for (int i = 0; i < 3; ++i) sizes[i] = parser.parse(bodies_[i])["RequestItems"]["t"].get_array().size();
  EXPECT_EQ(sizes[0], 25u);
  EXPECT_EQ(sizes[1], 25u);
  EXPECT_EQ(sizes[2], 10u);
  EXPECT_TRUE(time_.sleeps.empty());
}

TEST_F(FakeDynamoDb, BatchWriteFailsWhenItemsStayUnprocessed) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(res, R"({"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"id":{"S":"a"}}}}]}})");
  };
  auto c = client();
  Status s = c.batch_write("t", {R"({"id":{"S":"a"}})"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "UnprocessedItems");
  EXPECT_NE(s.error().to_string().find("BatchWriteItem on table 't'"), std::string::npos)
      << s.error().to_string();
  EXPECT_EQ(bodies_.size(), 3u);  // max_attempts
  EXPECT_EQ(time_.sleeps.size(), 2u);
}

TEST_F(FakeDynamoDb, CorruptedScanAnswerIsRetried) {
  const std::string page =
      R"({"Count":2,"Items":[{"id":{"S":"a"}},{"id":{"S":"b"}}],"ScannedCount":5,)"
      R"("LastEvaluatedKey":{"id":{"S":"b \"}{\" ]"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.5}})";
  int calls = 0;
  handler_ = [&](const httplib::Request&, httplib::Response& res) { answer(res, page, ++calls == 1); };
  auto c = client();
  ScanRequest r;
  r.table_name = "t";
  auto result = c.scan(r);
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(targets_[0], "DynamoDB_20120810.Scan");
  EXPECT_EQ(result->body, page);
  EXPECT_EQ(result->count, 2);
  EXPECT_EQ(result->scanned_count, 5);
  EXPECT_EQ(result->last_evaluated_key_json, R"({"id":{"S":"b \"}{\" ]"}})");
  ASSERT_TRUE(result->consumed_capacity_units.has_value());
  EXPECT_DOUBLE_EQ(*result->consumed_capacity_units, 1.5);
}

TEST_F(FakeDynamoDb, MalformedScanAnswerIsAnError) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(res, R"({"Count":"two","Items":[]})");
  };
  auto c = client();
  ScanRequest r;
  r.table_name = "t";
  auto result = c.scan(r);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "InvalidResponse");
  EXPECT_EQ(result.error().operation, "Scan");
}

// A server's bad answer is the server's error (exit 1), never taken for the user's: a LastEvaluatedKey
// that is not one valid key used to be passed on, and the next page's request failed as a usage error.
TEST_F(FakeDynamoDb, ScanAnswerWithAMalformedLastEvaluatedKeyIsAServerErrorAtOnce) {
  for (const char* key : {R"({"id":{"S":"a"} "x":{"S":"b"}})", R"({"id":{"S":"a"},})", R"({"id":"a"})",
                          R"({"id":{"S":"a\x"}})", R"({})"}) {
    SCOPED_TRACE(key);
    const std::string page = std::string(R"({"Count":0,"Items":[],"ScannedCount":0,"LastEvaluatedKey":)") +
                             key + "}";
    handler_ = [&](const httplib::Request&, httplib::Response& res) { answer(res, page); };
    auto c = client();
    ScanRequest r;
    r.table_name = "t";
    auto result = c.scan(r);
    ASSERT_FALSE(result) << "accepted LastEvaluatedKey " << result->last_evaluated_key_json;
    EXPECT_NE(result.error().kind, ErrorKind::kUsage);
    EXPECT_FALSE(result.error().retryable());
    EXPECT_EQ(result.error().code, "InvalidResponse");
    EXPECT_EQ(result.error().operation, "Scan");
    EXPECT_EQ(result.error().resource, "table 't'");
    EXPECT_NE(result.error().message.find("LastEvaluatedKey"), std::string::npos) << result.error().message;
  }
}

TEST_F(FakeDynamoDb, AnswersThatAreNotJsonAreServerErrorsNamingTheOperation) {
  handler_ = [](const httplib::Request&, httplib::Response& res) { answer(res, "<html>proxy</html>"); };
  auto c = client();
  ScanRequest r;
  r.table_name = "t";
  auto scan = c.scan(r);
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(scan.error().operation, "Scan");
  auto describe = c.describe_table("t");
  ASSERT_FALSE(describe);
  EXPECT_EQ(describe.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(describe.error().operation, "DescribeTable");
  auto exp = c.describe_export("arn:aws:dynamodb:us-east-1:123456789012:table/t/export/01");
  ASSERT_FALSE(exp);
  EXPECT_EQ(exp.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(exp.error().operation, "DescribeExport");
}

TEST_F(FakeDynamoDb, DescribeTableParsesTheDocumentedShape) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(
        res,
        R"({"Table":{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
        R"("TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
        R"({"AttributeName":"sk","KeyType":"RANGE"}],"TableStatus":"ACTIVE",)"
        R"("CreationDateTime":1.7E9,"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},)"
        R"("TableSizeBytes":987654321012,"ItemCount":1234567,)"
        R"("TableArn":"arn:aws:dynamodb:eu-west-1:123456789012:table/orders",)"
        R"("GlobalSecondaryIndexes":[{"IndexName":"g1"},{"IndexName":"g2"}],)"
        R"("LocalSecondaryIndexes":[{"IndexName":"l1"}]}})");
  };
  auto c = client();
  auto d = c.describe_table("orders");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->item_count, 1234567);
  EXPECT_EQ(d->table_size_bytes, 987654321012);
  EXPECT_EQ(d->table_arn, "arn:aws:dynamodb:eu-west-1:123456789012:table/orders");
  EXPECT_EQ(d->index_names, (std::vector<std::string>{"g1", "g2", "l1"}));
  EXPECT_EQ(d->billing_mode, "");
  EXPECT_EQ(d->read_capacity.provisioned_read_units, 5);
  EXPECT_FALSE(d->read_capacity.on_demand_max_read_units);
  EXPECT_EQ(bodies_[0], R"({"TableName":"orders"})");
}

// What read_capacity_percent needs: the read capacity of the table and of each global index, provisioned or
// on-demand (a MaxReadRequestUnits of -1 means no maximum), and the warm throughput.
TEST_F(FakeDynamoDb, DescribeTableReadsTheReadCapacityOfTheTableAndItsGlobalIndexes) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(
        res,
        R"({"Table":{"TableName":"orders","TableStatus":"ACTIVE","BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},)"
        R"("ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":0},)"
        R"("OnDemandThroughput":{"MaxReadRequestUnits":3000,"MaxWriteRequestUnits":-1},)"
        R"("WarmThroughput":{"ReadUnitsPerSecond":12000,"WriteUnitsPerSecond":4000,"Status":"ACTIVE"},)"
        R"("GlobalSecondaryIndexes":[{"IndexName":"g1","OnDemandThroughput":{"MaxReadRequestUnits":-1},)"
        R"("WarmThroughput":{"ReadUnitsPerSecond":500}},{"IndexName":"g2"}],)"
        R"("LocalSecondaryIndexes":[{"IndexName":"l1"}]}})");
  };
  auto c = client();
  auto d = c.describe_table("orders");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->billing_mode, "PAY_PER_REQUEST");
  EXPECT_EQ(d->read_capacity.provisioned_read_units, 0);
  EXPECT_EQ(d->read_capacity.on_demand_max_read_units, 3000);
  EXPECT_EQ(d->read_capacity.warm_read_units, 12000);
  ASSERT_EQ(d->global_index_capacity.size(), 2u);
  EXPECT_EQ(d->global_index_capacity[0].index_name, "g1");
  EXPECT_FALSE(d->global_index_capacity[0].capacity.on_demand_max_read_units) << "-1: no maximum";
  EXPECT_EQ(d->global_index_capacity[0].capacity.warm_read_units, 500);
  EXPECT_EQ(d->global_index_capacity[1].index_name, "g2");
  EXPECT_FALSE(d->global_index_capacity[1].capacity.provisioned_read_units);
}

TEST_F(FakeDynamoDb, WaitUntilActiveGivesUpAtTheTimeout) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    answer(res, R"({"Table":{"TableName":"t","TableStatus":"CREATING"}})");
  };
  auto c = client();
  auto d = c.wait_until_active("t", milliseconds(10'000), milliseconds(1'000));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "TableNotActive");
  EXPECT_EQ(bodies_.size(), time_.sleeps.size() + 1);  // a DescribeTable after every pause
  milliseconds slept{0};
  for (auto s : time_.sleeps) {
    EXPECT_LE(s, milliseconds(1'000));
    slept += s;
  }
  EXPECT_EQ(slept, milliseconds(10'000));
  EXPECT_EQ(time_.sleeps.front(), milliseconds(50));
}

}  // namespace
}  // namespace ddb2s3

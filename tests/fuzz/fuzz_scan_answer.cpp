// The fields of a Scan answer (Count, ScannedCount, LastEvaluatedKey, ConsumedCapacity; parsed in
// src/dynamodb/dynamodb.cpp, not exposed): through the public DynamoDbClient::scan, over HTTP, against a
// loopback server whose answer is the input. The first byte picks the status (200 most of the time, else
// an error status, which goes to the JSON error parser), then optional header lines "name: value" and an
// empty line (e.g. x-amz-crc32), then the body.
//
// Properties of an accepted page: the body is the answer's bytes; LastEvaluatedKey is empty or a JSON
// object (it goes back to DynamoDB as the next ExclusiveStartKey; a key copied raw once let
// '{~"id":{"S":"z"}}' through: tests/fuzz/findings/README.md, fixed).
#include <cstdint>
#include <string>
#include <string_view>

#include "dynamodb/dynamodb.h"
#include "fuzz_client_config.h"
#include "fuzz_support.h"
#include "loopback_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddb2s3;
  if (size < 1) return 0;
  static fuzz::LoopbackServer server;
  static DynamoDbClient client(fuzz::loopback_config("dynamodb", server.url()));
  static constexpr int kStatuses[] = {200, 200, 200, 200, 200, 200, 200, 200, 400, 500, 413, 503};
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto [headers, body] = fuzz::headers_and_body(input);
  const std::string sent = body;
  server.answer(kStatuses[data[0] % (sizeof kStatuses / sizeof kStatuses[0])], headers, std::move(body));

  ScanRequest request;
  request.table_name = "orders";
  auto page = client.scan(request);
  if (!page) {
    if (page.error().message.empty() && page.error().code.empty())
      fuzz::property_failed("an error with neither code nor message", input);
    return 0;
  }
  if (page->body != sent) fuzz::property_failed("the page's body is not the answer's", input);
  if (!page->last_evaluated_key_json.empty() &&
      !fuzz::is_json_object(page->last_evaluated_key_json))
    fuzz::property_failed("LastEvaluatedKey is not a JSON object", input);
  client.recycle(std::move(page->body));
  return 0;
}

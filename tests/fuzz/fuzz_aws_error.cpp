// error_from_response (src/aws/client.h): the AWS error of an error answer, JSON ("__type"/"message") or
// XML (<Error><Code>/<Message>). Input: the first byte picks the HTTP status, then header lines
// "name: value" up to an empty line, then the body.
//
// Properties: nothing crashes; the error always has a code and carries the answer's status.
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddb2s3;
  if (size < 1) return 0;
  static constexpr long kStatuses[] = {400, 403, 404, 500, 503, 301, 200, 413, 429, 409, 599};
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpResponse response;
  response.status = kStatuses[data[0] % (sizeof kStatuses / sizeof kStatuses[0])];
  auto [head, body] = fuzz::split(input, "\n\n");
  if (body.data() == nullptr) {  // no header block: it is all body
    body = head;
    head = {};
  }
  while (!head.empty()) {
    auto [line, rest] = fuzz::split(head, "\n");
    head = rest;
    auto [name, value] = fuzz::split(line, ": ");
    std::string lower(name);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    response.headers.emplace_back(std::move(lower), std::string(value));
  }
  response.body.assign(body);
  CallInfo info;
  info.operation = "Scan";
  info.resource = "table 'orders'";
  Error e = error_from_response(response, info);
  if (e.code.empty()) fuzz::property_failed("an error without a code", input);
  if (e.http_status != static_cast<int>(response.status)) fuzz::property_failed("the status was lost", input);
  (void)e.to_string();
  return 0;
}

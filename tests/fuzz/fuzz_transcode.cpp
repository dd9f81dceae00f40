// PageTranscoder (src/scan/transcode.h) on any Scan body. The first byte picks the format (bit 0: jsonl or
// dynamodb-json) and whether an item callback is set (bit 1); the rest is the body.
//
// Properties:
// - an error leaves out as it was (the prefix written before the call, nothing more);
// - an accepted page gives exactly PageInfo::items lines, each ending in '\n';
// - jsonl: every line parses as JSON (simdjson's DOM parser) and is an object;
// - dynamodb-json: every line parses as a JSON object too (the page is validated whole before items are
//   copied; the raw copy once let '{]' through: tests/fuzz/findings/README.md, fixed);
// - LastEvaluatedKey is empty or a JSON object.
// "A JSON object" is simdjson's DOM parser's verdict (fuzz_support.h, with its fallback for big numbers).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "scan/transcode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddb2s3;
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const OutputFormat format = (mode & 1) ? OutputFormat::kDynamoDbJson : OutputFormat::kJsonl;

  // One transcoder per format, reused for every input as a scan reuses one per thread.
  static PageTranscoder jsonl(OutputFormat::kJsonl);
  static PageTranscoder dynamodb_json(OutputFormat::kDynamoDbJson);
  // Callback inputs reuse them too: the line buffer once grew with every failed page
  // (tests/fuzz/findings/transcode-buffer-growth, fixed; TranscodePage.ItemCallbackBufferStaysFlat...).
  PageTranscoder* chosen = format == OutputFormat::kJsonl ? &jsonl : &dynamodb_json;
  PageTranscoder& t = *chosen;
  if (mode & 2) {
    // A process_func that keeps each line as it is: the path through the callback.
    t.set_item_callback([](std::string_view line, std::string& out) {
      out.append(line);
      out.push_back('\n');
    });
  } else {
    t.set_item_callback({});
  }

  std::string body(input);  // exact capacity: transcode() must grow it for simdjson's padding itself
  body.shrink_to_fit();
  const std::string prefix = "prefix\n";
  std::string out = prefix;
  auto info = t.transcode(body, out);
  if (body != input) fuzz::property_failed("transcode() changed the body's bytes", input);
  if (!info) {
    if (out != prefix) fuzz::property_failed("an error did not restore out", input);
    return 0;
  }
  if (out.compare(0, prefix.size(), prefix) != 0) fuzz::property_failed("out's prefix was changed", input);

  std::string_view lines = std::string_view(out).substr(prefix.size());
  size_t count = 0;
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    if (nl == std::string_view::npos) fuzz::property_failed("the last line does not end in '\\n'", input);
    std::string_view line = lines.substr(0, nl);
    lines.remove_prefix(nl + 1);
    ++count;
    if (!fuzz::is_json_object(line)) {
      fuzz::property_failed(format == OutputFormat::kJsonl ? "a jsonl line is not a JSON object"
                                                           : "a dynamodb-json line is not a JSON object",
                            input);
    }
  }
  if (count != info->items) fuzz::property_failed("the number of lines is not PageInfo::items", input);
  if (!info->last_evaluated_key.empty() && !fuzz::is_json_object(info->last_evaluated_key))
    fuzz::property_failed("LastEvaluatedKey is not a JSON object", input);
  return 0;
}

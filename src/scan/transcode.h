// Scan page -> output lines, straight from the response bytes (simdjson on-demand, no DOM of the page).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddb2s3 {

enum class OutputFormat {
  kJsonl,         // one plain JSON object per item, numbers with DynamoDB's digits verbatim
  kDynamoDbJson,  // one {"Item":{...typed...}} per item, the line format of DynamoDB's native export
};

// What a Scan page says besides its items.
struct PageInfo {
  size_t count = 0;                // "Count" (the number of items when the field is absent)
  size_t scanned_count = 0;        // "ScannedCount" (0 when absent)
  size_t items = 0;                // items found in "Items"
  std::string last_evaluated_key;  // compact raw JSON of "LastEvaluatedKey", empty if none
  // "ConsumedCapacity"'s "CapacityUnits", when the answer has it
  std::optional<double> consumed_capacity_units;
};

// The library's process_func: gets an item's line (no trailing '\n') and appends what should be
// written for it to out (e.g. the line and '\n', a transformed line, or nothing to drop the item).
using ItemCallback = std::function<void(std::string_view line, std::string& out)>;

// Bytes a Scan body needs after its end for simdjson; reserve them before reading the body into
// the string to spare transcode() a copy (body.reserve(n + kScanBodyPadding)).
inline constexpr size_t kScanBodyPadding = 64;

// Transcodes DynamoDB Scan response bodies into lines. One per thread; reuse it for every page,
// it keeps its parser and buffers so that the steady state allocates nothing per item.
//
// Strings in jsonl are re-emitted canonically, whatever escapes the response used: valid UTF-8 is
// kept as is; '"', '\\' and control characters are escaped (\b \f \n \r \t, else \u00XX);
// every other \uXXXX (surrogate pairs included) is decoded to UTF-8; '\/' becomes '/'. A lone
// surrogate escape, which no UTF-8 string can hold, becomes U+FFFD (so strict parsers accept the line).
//
// dynamodb-json lines copy each item's bytes from the response. They are minified instead when the
// page is not compact (judged on its first item) or an item's span holds a raw tab/CR/LF. The page
// is validated whole first (simdjson's DOM parser: grammar, strings, escapes, UTF-8; it also refuses a
// lone surrogate escape, which no UTF-8 string can hold), so a copied item is always JSON; jsonl checks
// everything as it walks each typed value.
class PageTranscoder {
 public:
  explicit PageTranscoder(OutputFormat format);
  ~PageTranscoder();
  PageTranscoder(PageTranscoder&&) noexcept;
  PageTranscoder& operator=(PageTranscoder&&) noexcept;

  OutputFormat format() const;

  // Hands every line to fn instead of appending it to out directly; an empty fn removes it.
  void set_item_callback(ItemCallback fn);

  // Appends one line per item (each ending in '\n') to out; returns the page's counts and
  // LastEvaluatedKey. Grows body's capacity by kScanBodyPadding if it lacks it (its bytes are
  // not changed). On error out is restored to its size at the call and the error is
  // kInternal/"MalformedScanResponse" with a short excerpt of the body.
  Result<PageInfo> transcode(std::string& body, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2s3

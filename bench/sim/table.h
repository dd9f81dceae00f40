// A synthetic, deterministic DynamoDB table for the benchmark simulator: N items of a chosen average
// size, made on the fly from a pool of pre-generated item bodies, so a 10 GB table needs a few MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddb2s3::bench {

struct TableOptions {
  std::string name = "bench";
  uint64_t items = 100000;
  uint32_t average_item_bytes = 750;  // of the item's JSON as Scan returns it
  uint64_t seed = 1;
  bool sets_and_binary = true;  // false: no SS/NS/BS/B attributes (json.dumps cannot take them)
  size_t pool_size = 2048;      // distinct item bodies; 2048 x 750 B is ~1.5 MB, far beyond gzip's window
};

class SyntheticTable {
 public:
  explicit SyntheticTable(TableOptions options);

  const TableOptions& options() const { return options_; }
  // Sum of every item's JSON size (DescribeTable's TableSizeBytes).
  uint64_t size_bytes() const { return size_bytes_; }

  // Items [begin, end) of `segment` of `total`: contiguous ranges of the key space, as DynamoDB splits.
  std::pair<uint64_t, uint64_t> segment_range(uint64_t segment, uint64_t total) const;

  // The item index a key names ("item-000000000123" -> 123), or -1 if it names none.
  int64_t index_of_key(std::string_view key) const;

  struct Page {
    uint64_t count = 0;
    uint64_t next = 0;  // the first item of the next page; == end when the segment is done
    uint64_t item_bytes = 0;  // of the items' JSON: what read capacity is charged for
  };
  // Writes a whole Scan response body into `out` (cleared first): items from `start` until `end`,
  // `limit` items, or `max_item_bytes` of item JSON, whichever comes first; LastEvaluatedKey when
  // items remain. `out` keeps room for a ConsumedCapacity member that the caller may add before the last '}'.
  Page page(uint64_t start, uint64_t end, uint64_t limit, size_t max_item_bytes, std::string& out) const;

 private:
  const std::string& body_of(uint64_t index) const;  // the item's JSON after its key attribute

  TableOptions options_;
  std::vector<std::string> pool_;
  uint64_t size_bytes_ = 0;
};

}  // namespace ddb2s3::bench

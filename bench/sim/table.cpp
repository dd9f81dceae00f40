#include "sim/table.h"

#include <algorithm>
#include <cstring>

namespace ddb2s3::bench {
namespace {

constexpr std::string_view kKeyHead = R"({"pk":{"S":"item-)";
constexpr std::string_view kKeyTail = R"("},)";
constexpr size_t kKeyDigits = 12;
constexpr size_t kKeyBytes = kKeyHead.size() + kKeyDigits + kKeyTail.size();
constexpr uint64_t kStride = 0x9E3779B1;  // odd, so i * kStride mod 2^k walks the whole pool

// splitmix64: a tiny generator whose output is the same on every platform and library.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

std::vector<std::string> make_words(Random& r) {
  static constexpr const char* kSyllables[] = {"ka",  "lo", "mi", "ran", "te",  "so", "vel", "du",  "an",
                                               "qui", "pe", "ro", "sa",  "tor", "ne", "li",  "mar", "os"};
  std::vector<std::string> words;
  for (int i = 0; i < 256; ++i) {
    std::string w;
    for (uint64_t n = 1 + r.below(3); n > 0; --n) w += kSyllables[r.below(std::size(kSyllables))];
    words.push_back(std::move(w));
  }
  return words;
}

std::string digits(Random& r, int n) {
  std::string s(1, static_cast<char>('1' + r.below(9)));
  while (static_cast<int>(s.size()) < n) s += static_cast<char>('0' + r.below(10));
  return s;
}

std::string base64(Random& r, size_t bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t groups = (bytes + 2) / 3;
  for (size_t g = 0; g < groups; ++g) {
    for (int c = 0; c < 4; ++c) out += kAlphabet[r.below(64)];
  }
  size_t pad = groups * 3 - bytes;  // the last group's missing bytes become '='
  for (size_t p = 0; p < pad; ++p) out[out.size() - 1 - p] = '=';
  return out;
}

// One item's attributes after its key, as DynamoDB's Scan returns them: every type, nested maps and
// lists, numbers of every shape, UTF-8 and escapes, padded with text to `target` bytes in all.
std::string make_body(Random& r, const std::vector<std::string>& words, size_t target, bool sets) {
  auto word = [&] { return words[r.below(words.size())]; };
  auto phrase = [&](int n) {
    std::string s = word();
    for (int i = 1; i < n; ++i) s += ' ' + word();
    return s;
  };
  std::string b;
  b += R"("name":{"S":")" + phrase(2 + static_cast<int>(r.below(3))) + R"("},)";
  b += R"("count":{"N":")" + std::to_string(r.below(1000000)) + R"("},)";
  b += R"("price":{"N":")" + std::string(r.below(4) == 0 ? "-" : "") + std::to_string(r.below(100000)) + "." +
       digits(r, 1 + static_cast<int>(r.below(4))) + R"("},)";
  b += R"("active":{"BOOL":)" + std::string(r.below(2) ? "true" : "false") + "},";
  b += R"("note":{"NULL":true},)";
  if (r.below(8) == 0) b += R"("big":{"N":")" + digits(r, 38) + R"("},)";
  if (sets) {
    b += R"("tags":{"SS":[")" + word() + "-1\",\"" + word() + "-2\",\"" + word() + R"(-3"]},)";
    b += R"("scores":{"NS":[")" + std::to_string(r.below(100)) + "\",\"" + std::to_string(r.below(1000)) +
         ".5\",\"-" + std::to_string(1 + r.below(50)) + R"("]},)";
    b += R"("blob":{"B":")" + base64(r, 12 + r.below(37)) + R"("},)";
    b += R"("blobs":{"BS":[")" + base64(r, 8) + "\",\"" + base64(r, 16) + R"("]},)";
  }
  b += R"("list":{"L":[{"S":")" + word() + R"("},{"N":")" + std::to_string(r.below(1000)) +
       R"("},{"BOOL":false},{"M":{"k":{"S":")" + word() + R"("}}}]},)";
  b += R"("map":{"M":{"city":{"S":")" + phrase(2) + R"("},"zip":{"N":")" + digits(r, 5) +
       R"("},"geo":{"L":[{"N":")" + std::to_string(r.below(90)) + "." + digits(r, 4) + R"("},{"N":"-)" +
       std::to_string(r.below(180)) + "." + digits(r, 4) + R"("}]}}},)";
  b += R"("text":{"S":")";
  static constexpr const char* kSpecial[] = {"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\\\"quoted\\\"",
                                             "line\\nbreak", "tab\\tstop"};
  constexpr size_t kClose = 3;  // "}}
  b += word();
  while (kKeyBytes + b.size() + kClose + 1 < target) {
    b += ' ';
    b += r.below(24) == 0 ? std::string(kSpecial[r.below(std::size(kSpecial))]) : word();
  }
  b += R"("}})";
  return b;
}

void put_key_digits(char* p, uint64_t index) {
  for (size_t i = kKeyDigits; i > 0; --i) {
    p[i - 1] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
}

}  // namespace

SyntheticTable::SyntheticTable(TableOptions options) : options_(std::move(options)) {
  size_t pool = 1;
  while (pool < std::max<size_t>(options_.pool_size, 1)) pool <<= 1;  // a power of two for kStride
  Random r(options_.seed);
  std::vector<std::string> words = make_words(r);
  for (size_t i = 0; i < pool; ++i) {
    size_t target = options_.average_item_bytes / 2 + r.below(options_.average_item_bytes + 1);
    pool_.push_back(make_body(r, words, target, options_.sets_and_binary));
  }
  uint64_t cycle = 0;
  for (const auto& b : pool_) cycle += kKeyBytes + b.size();
  uint64_t full = options_.items / pool;
  size_bytes_ = full * cycle;
  for (uint64_t i = full * pool; i < options_.items; ++i) size_bytes_ += kKeyBytes + body_of(i).size();
}

const std::string& SyntheticTable::body_of(uint64_t index) const {
  return pool_[(index * kStride) & (pool_.size() - 1)];
}

std::pair<uint64_t, uint64_t> SyntheticTable::segment_range(uint64_t segment, uint64_t total) const {
  // items * s / total without overflow: total is at most 1,000,000 (DynamoDB's limit).
  auto at = [&](uint64_t s) { return options_.items / total * s + options_.items % total * s / total; };
  return {at(segment), at(segment + 1)};
}

int64_t SyntheticTable::index_of_key(std::string_view key) const {
  constexpr std::string_view kPrefix = "item-";
  if (key.size() != kPrefix.size() + kKeyDigits || key.substr(0, kPrefix.size()) != kPrefix) return -1;
  int64_t index = 0;
  for (char c : key.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return -1;
    index = index * 10 + (c - '0');
  }
  return static_cast<uint64_t>(index) < options_.items ? index : -1;
}

SyntheticTable::Page SyntheticTable::page(uint64_t start, uint64_t end, uint64_t limit, size_t max_item_bytes,
                                          std::string& out) const {
  Page p;
  size_t item_bytes = 0;
  uint64_t i = start;
  for (; i < end && p.count < limit; ++i, ++p.count) {
    size_t s = kKeyBytes + body_of(i).size();
    if (p.count > 0 && item_bytes + s > max_item_bytes) break;
    item_bytes += s;
  }
  p.next = i;
  p.item_bytes = item_bytes;
  std::string head = "{\"Count\":" + std::to_string(p.count) + ",\"Items\":[";
  std::string tail = "]";
  if (p.next < end && p.count > 0) {
    std::string key(kKeyDigits, '0');
    put_key_digits(key.data(), p.next - 1);
    tail += R"(,"LastEvaluatedKey":{"pk":{"S":"item-)" + key + R"("}})";
  }
  tail += ",\"ScannedCount\":" + std::to_string(p.count) + "}";
  const size_t size = head.size() + item_bytes + (p.count ? p.count - 1 : 0) + tail.size();
  out.reserve(size + 128);  // ,"ConsumedCapacity":{...} without a reallocation
  out.resize(size);
  char* w = out.data();
  std::memcpy(w, head.data(), head.size());
  w += head.size();
  for (uint64_t k = start; k < p.next; ++k) {
    if (k != start) *w++ = ',';
    std::memcpy(w, kKeyHead.data(), kKeyHead.size());
    w += kKeyHead.size();
    put_key_digits(w, k);
    w += kKeyDigits;
    std::memcpy(w, kKeyTail.data(), kKeyTail.size());
    w += kKeyTail.size();
    const std::string& b = body_of(k);
    std::memcpy(w, b.data(), b.size());
    w += b.size();
  }
  std::memcpy(w, tail.data(), tail.size());
  return p;
}

}  // namespace ddb2s3::bench

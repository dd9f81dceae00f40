// Wall-time throughput of PageTranscoder over a synthetic ~100 MB corpus of ~1 MB Scan pages with
// ~739-byte items of every DynamoDB type, as a ratio to a plain memcpy of the same bytes.
// Usage: transcode_bench [corpus MB, default 100] [repetitions, default 5] [jsonl|dynamodb-json, default
// both]
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "scan/transcode.h"

namespace {

using ddb2s3::OutputFormat;
using ddb2s3::PageTranscoder;

std::string digits(std::mt19937& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
  if (s[0] == '0') s[0] = '1';
  return s;
}

std::string base64(std::mt19937& rng, int n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (int i = 0; i < n; ++i) s += kAlphabet[rng() % 64];
  return s + "==";
}

std::string words(std::mt19937& rng, int n) {
  // Mostly plain words, some multi-byte UTF-8, and an escape now and then (1 word in 16).
  static const char* kWords[] = {"alpha",
                                 "beta",
                                 "gamma",
                                 "delta",
                                 "epsilon",
                                 "zeta",
                                 "eta",
                                 "theta",
                                 "iota",
                                 "kappa",
                                 "café",
                                 "naïve",
                                 "日本",
                                 "sigma",
                                 "omega",
                                 "lambda",
                                 "mu",
                                 "nu",
                                 "xi",
                                 "pi",
                                 "rho",
                                 "tau",
                                 "upsilon",
                                 "phi",
                                 "chi",
                                 "psi",
                                 "one",
                                 "two",
                                 "three",
                                 "four",
                                 "\\\"quoted\\\"",
                                 "line\\nbreak"};
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + kWords[rng() % 32];
  return s;
}

// One item of ~739 bytes with every type, shaped like an order record.
std::string item(std::mt19937& rng, size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "%08zu", i);
  std::string s = R"({"pk":{"S":"customer#)" + std::string(id) + R"("},"sk":{"S":"order#2024-03-)" +
                  std::to_string(10 + rng() % 18) + "T12:00:00Z#" + digits(rng, 6) + R"("},)";
  s += R"("amount":{"N":")" + digits(rng, 4) + "." + digits(rng, 2) + R"("},"qty":{"N":")" +
       std::to_string(1 + rng() % 20) + R"("},"ledger":{"N":")" + digits(rng, 38) + R"("},)";
  s += R"("tiny":{"N":"1E-130"},"delta":{"N":"-0.)" + digits(rng, 3) + R"("},"active":{"BOOL":)" +
       std::string(rng() % 2 ? "true" : "false") + R"(},"deleted":{"NULL":true},)";
  s += R"("thumb":{"B":")" + base64(rng, 42) + R"("},"tags":{"SS":[")" + words(rng, 1) + R"(",")" +
       words(rng, 1) + R"(","priority"]},"scores":{"NS":[")" + digits(rng, 2) + R"(","-)" + digits(rng, 1) +
       "." + digits(rng, 2) + R"(","1e+5"]},"sigs":{"BS":[")" + base64(rng, 14) + R"("]},)";
  s += R"("address":{"M":{"street":{"S":")" + digits(rng, 3) + " " + words(rng, 2) +
       R"( Street"},"city":{"S":")" + words(rng, 1) + R"("},"zip":{"S":")" + digits(rng, 5) +
       R"("},"geo":{"L":[{"N":"52.)" + digits(rng, 6) + R"("},{"N":"-1.)" + digits(rng, 6) + R"("}]}}},)";
  s += R"("lines":{"L":[{"M":{"sku":{"S":"SKU-)" + digits(rng, 6) + R"("},"n":{"N":")" + digits(rng, 1) +
       R"("}}},{"M":{"sku":{"S":"SKU-)" + digits(rng, 6) + R"("},"n":{"N":")" + digits(rng, 1) + R"("}}}]},)";
  s += R"("note":{"S":")" + words(rng, 2 + static_cast<int>(rng() % 6)) + R"("}})";
  return s;
}

std::vector<std::string> corpus(size_t total_bytes, size_t& items, size_t& bytes) {
  std::mt19937 rng(7);
  std::vector<std::string> pages;
  items = bytes = 0;
  while (bytes < total_bytes) {
    std::string body = R"({"Items":[)";
    size_t n = 0;
    while (body.size() < 1000 * 1000) {
      if (n != 0) body += ',';
      body += item(rng, items + n);
      ++n;
    }
    body += R"(],"Count":)" + std::to_string(n) + R"(,"ScannedCount":)" + std::to_string(n) +
            R"(,"LastEvaluatedKey":{"pk":{"S":"customer#x"},"sk":{"S":"order#y"}}})";
    body.reserve(body.size() + ddb2s3::kScanBodyPadding);
    items += n;
    bytes += body.size();
    pages.push_back(std::move(body));
  }
  return pages;
}

// Wall and CPU time of one timed run; CPU time stays meaningful on a shared, loaded machine.
struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_now();

  static double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }
  double wall_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  }
  double cpu_s() const { return cpu_now() - cpu; }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Throughput in MB/s of the median and the best run, wall and CPU time.
struct Rates {
  double wall_median, wall_best, cpu_median;
  Rates(double mb, const std::vector<double>& wall, const std::vector<double>& cpu)
      : wall_median(mb / median(wall)), wall_best(mb / best(wall)), cpu_median(mb / median(cpu)) {}
};

void print(const char* name, const Rates& r, const Rates& copy) {
  std::printf(
      "%-14s wall median %6.0f MB/s (x%.3f) best %6.0f MB/s (x%.3f) | cpu median %6.0f MB/s (x%.3f)\n", name,
      r.wall_median, r.wall_median / copy.wall_median, r.wall_best, r.wall_best / copy.wall_best,
      r.cpu_median, r.cpu_median / copy.cpu_median);
}

// The reference of LIMITS.md: an on-demand walk touching every value (raw tokens), no output.
size_t walk(simdjson::ondemand::value v) {
  namespace od = simdjson::ondemand;
  od::json_type type;
  if (v.type().get(type)) return 0;
  size_t sum = 0;
  if (type == od::json_type::object) {
    od::object obj;
    if (v.get_object().get(obj)) return 0;
    for (auto f : obj) {
      od::field field;
      if (std::move(f).get(field)) return 0;
      sum += static_cast<unsigned char>(field.key().raw()[0]) + walk(field.value());
    }
  } else if (type == od::json_type::array) {
    od::array arr;
    if (v.get_array().get(arr)) return 0;
    for (auto e : arr) {
      od::value element;
      if (e.get(element)) return 0;
      sum += walk(element);
    }
  } else {
    sum += v.raw_json_token().size();
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string only = argc > 3 ? argv[3] : "";
  size_t items = 0;
  size_t bytes = 0;
  std::vector<std::string> pages = corpus(mb * 1000 * 1000, items, bytes);
  std::printf("corpus: %zu pages, %zu items, %.1f MB, %.0f B/item\n", pages.size(), items, bytes / 1e6,
              static_cast<double>(bytes) / static_cast<double>(items));

  std::string sink;
  sink.resize(2 * 1000 * 1000);
  std::vector<double> copy_wall;
  std::vector<double> copy_cpu;
  size_t guard = 0;
  for (int r = 0; r < reps; ++r) {
    const Clock t0;
    for (const std::string& page : pages) {
      std::memcpy(sink.data(), page.data(), page.size());
      guard += static_cast<unsigned char>(sink[page.size() / 2]);
    }
    copy_wall.push_back(t0.wall_s());
    copy_cpu.push_back(t0.cpu_s());
  }
  const Rates copy(bytes / 1e6, copy_wall, copy_cpu);
  print("memcpy", copy, copy);

  {
    simdjson::ondemand::parser parser;
    std::vector<double> wall;
    std::vector<double> cpu;
    for (int r = 0; r < reps; ++r) {
      const Clock t0;
      for (std::string& page : pages) {
        simdjson::ondemand::document doc;
        simdjson::ondemand::value root;
        if (parser.iterate(page.data(), page.size(), page.capacity()).get(doc) || doc.get_value().get(root))
          return 1;
        guard += walk(root);
      }
      wall.push_back(t0.wall_s());
      cpu.push_back(t0.cpu_s());
    }
    print("on-demand walk", Rates(bytes / 1e6, wall, cpu), copy);
  }

  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
    const char* name = format == OutputFormat::kJsonl ? "jsonl" : "dynamodb-json";
    if (!only.empty() && only != name) continue;
    PageTranscoder transcoder(format);
    std::string out;
    std::vector<double> wall;
    std::vector<double> cpu;
    size_t out_bytes = 0;
    for (int r = 0; r < reps; ++r) {
      out_bytes = 0;
      const Clock t0;
      for (std::string& page : pages) {
        out.clear();
        auto result = transcoder.transcode(page, out);
        if (!result.ok()) {
          std::fprintf(stderr, "transcode failed: %s\n", result.error().to_string().c_str());
          return 1;
        }
        out_bytes += out.size();
      }
      wall.push_back(t0.wall_s());
      cpu.push_back(t0.cpu_s());
    }
    print(name, Rates(bytes / 1e6, wall, cpu), copy);
    std::printf("%-14s output %.1f MB (x%.3f of the input)\n", "", out_bytes / 1e6,
                static_cast<double>(out_bytes) / static_cast<double>(bytes));
  }
  return guard == 42 ? 2 : 0;
}

// ddb2s3-floor: what each stage of a copy costs alone, on this machine, over the pages the simulator
// serves. Fetches Scan pages of one segment once into memory (libcurl keep-alive, no parsing), then, one
// thread, CPU time of each stage over those pages: the transcode to jsonl and to dynamodb-json lines (the
// project's PageTranscoder), gzip (ISA-L) and zstd at their default levels (the project's Compressor, a
// page at a time as ddb2s3 calls it), the two MD5s of the stored bytes (DualMd5: object and part, as the
// S3 sink computes them), and the PUT of the stored bytes to the simulator's S3 in 8 MiB requests.
// The floor of a format+compression is the sum of its stages: fetch + transcode + compress + MD5 + PUT.
//
// Usage: ddb2s3-floor [--cainfo PEM] [--max-mb MB] [--reps N] DYNAMODB_ENDPOINT S3_ENDPOINT TABLE
// Prints one JSON object: the bytes measured, every stage's and every floor's CPU-s per GB of Scan bytes.
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "scan/compress.h"
#include "scan/transcode.h"
#include "scan_text.h"

namespace {

using ddb2s3::bench::append_to_string;
using ddb2s3::bench::object_after;

using ddb2s3::Compression;
using ddb2s3::Compressor;
using ddb2s3::OutputFormat;
using ddb2s3::PageTranscoder;

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ddb2s3-floor: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> new_handle(const std::string& cainfo) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 64L << 10);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (!cainfo.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cainfo.c_str());
  return curl;
}

// Scan pages of segment 0 of 1 until the table ends or max_bytes are held; each body keeps room for the
// transcoder's padding. Returns the fetch loop's CPU seconds: each page into one reused buffer, as
// ddb2s3-raw-fetch does; the copy of each page into `pages` (for the later stages) is not counted.
double fetch(const std::string& endpoint, const std::string& cainfo, const std::string& table,
             size_t max_bytes, std::vector<std::string>& pages, size_t& bytes) {
  auto curl = new_handle(cainfo);
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
  h = curl_slist_append(h, "X-Amz-Target: DynamoDB_20120810.Scan");
  h = curl_slist_append(h, "Expect:");
  headers.reset(h);
  curl_easy_setopt(c, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_to_string);
  std::string start_key, request, body;
  body.reserve(2 << 20);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  double cpu = 0;
  bytes = 0;
  while (bytes < max_bytes) {
    const double t0 = thread_cpu();
    request = "{\"TableName\":\"" + table + "\"";
    if (!start_key.empty()) request += ",\"ExclusiveStartKey\":" + start_key;
    request += "}";
    body.clear();
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.size()));
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200)
      fail("Scan: " + std::string(curl_easy_strerror(rc)) + ", HTTP " + std::to_string(status));
    bytes += body.size();
    start_key = std::string(object_after(body, "\"LastEvaluatedKey\":"));
    cpu += thread_cpu() - t0;
    std::string& page = pages.emplace_back();
    page.reserve(body.size() + ddb2s3::kScanBodyPadding);
    page = body;
    if (start_key.empty()) break;
  }
  return cpu;
}

struct ReadState {
  std::string_view body;
  size_t at = 0;
};

size_t read_body(char* out, size_t size, size_t n, void* state) {
  auto* s = static_cast<ReadState*>(state);
  size_t k = std::min(size * n, s->body.size() - s->at);
  std::memcpy(out, s->body.data() + s->at, k);
  s->at += k;
  return k;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

constexpr size_t kPart = 8u << 20;  // ddb2s3's part size at one segment

// PUTs `stored` to the simulator's S3 in kPart requests over one keep-alive connection; CPU seconds.
double put(const std::string& s3, const std::string& cainfo, const std::string& key,
           std::string_view stored) {
  auto curl = new_handle(cainfo);
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/octet-stream"), curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  const double t0 = thread_cpu();
  for (size_t at = 0, n = 0; at < stored.size() || n == 0; at += kPart, ++n) {
    ReadState state{stored.substr(at, kPart)};
    std::string url = s3 + "/bench/floor/" + key + "/" + std::to_string(n);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_READDATA, &state);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(state.body.size()));
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200)
      fail("PUT: " + std::string(curl_easy_strerror(rc)) + ", HTTP " + std::to_string(status));
  }
  return thread_cpu() - t0;
}

// The least CPU time of reps runs of f (the steadiest figure on a shared machine).
template <class F>
double least(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu();
    f();
    best = std::min(best, thread_cpu() - t0);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cainfo;
  size_t max_mb = 128;
  int reps = 3;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cainfo" && i + 1 < argc)
      cainfo = argv[++i];
    else if (a == "--max-mb" && i + 1 < argc)
      max_mb = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else
      args.push_back(a);
  }
  if (args.size() != 3 || max_mb == 0) {
    std::fputs(
        "usage: ddb2s3-floor [--cainfo PEM] [--max-mb MB] [--reps N] DYNAMODB_ENDPOINT S3_ENDPOINT TABLE\n",
        stderr);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<std::string> pages;
  size_t scan_bytes = 0;
  std::map<std::string, double> stage;  // CPU seconds
  std::map<std::string, size_t> sizes;  // bytes out of each stage
  stage["fetch"] = fetch(args[0], cainfo, args[2], max_mb * 1000 * 1000, pages, scan_bytes);
  size_t items = 0;

  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kDynamoDbJson}) {
    const std::string fmt = format == OutputFormat::kJsonl ? "jsonl" : "dynamodb-json";
    PageTranscoder transcoder(format);
    std::string lines;
    std::vector<size_t> ends;  // where each page's lines end in `lines`
    stage["transcode " + fmt] = least(reps, [&] {
      lines.clear();
      ends.clear();
      items = 0;
      for (std::string& page : pages) {
        auto info = transcoder.transcode(page, lines);
        if (!info.ok()) fail("transcode: " + info.error().to_string());
        items += info->items;
        ends.push_back(lines.size());
      }
    });
    sizes[fmt] = lines.size();
    for (Compression compression : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
      const std::string combo = fmt + "+" + std::string(ddb2s3::compression_name(compression));
      std::string stored;
      if (compression == Compression::kNone) {
        stored = lines;  // the bytes stored are the lines; no stage between
      } else {
        auto made = Compressor::make(compression);
        if (!made.ok()) fail("compressor: " + made.error().to_string());
        Compressor& z = **made;
        stage[std::string(ddb2s3::compression_name(compression)) + " " + fmt] = least(reps, [&] {
          stored.clear();
          z.start_object();
          size_t begin = 0;
          for (size_t end : ends) {
            if (!z.add_page(std::string_view(lines).substr(begin, end - begin), stored).ok())
              fail("compress");
            begin = end;
          }
          if (!z.finish_object(stored).ok()) fail("compress");
        });
      }
      sizes[combo] = stored.size();
      unsigned guard = 0;
      stage["md5 " + combo] = least(reps, [&] {
        ddb2s3::DualMd5 md5;
        std::string_view rest(stored);
        size_t in_part = 0;
        while (!rest.empty()) {  // a page's worth at a time, a new part every kPart bytes
          std::string_view chunk = rest.substr(0, 1 << 20);
          md5.update(chunk);
          rest.remove_prefix(chunk.size());
          if ((in_part += chunk.size()) >= kPart) {
            guard += md5.digest(1)[0];
            md5.reset_second();
            in_part = 0;
          }
        }
        guard += md5.digest(0)[0] + md5.digest(1)[0];
      });
      if (guard == 0xFFFFFFFF) std::fputs("", stderr);  // keeps the digests from being optimised away
      stage["put " + combo] = put(args[1], cainfo, combo, stored);
    }
  }
  curl_global_cleanup();

  const double gb = static_cast<double>(scan_bytes) / 1e9;
  std::printf("{\"pages\":%zu,\"items\":%zu,\"scan_bytes\":%zu,\"reps\":%d,\"bytes\":{", pages.size(), items,
              scan_bytes, reps);
  const char* sep = "";
  for (const auto& [name, n] : sizes) std::printf("%s\"%s\":%zu", std::exchange(sep, ","), name.c_str(), n);
  std::printf("},\"cpu_s_per_gb\":{");
  sep = "";
  for (const auto& [name, s] : stage)
    std::printf("%s\"%s\":%.4f", std::exchange(sep, ","), name.c_str(), s / gb);
  std::printf("},\"floor_cpu_s_per_gb\":{");
  sep = "";
  for (const char* fmt : {"jsonl", "dynamodb-json"}) {
    for (const char* comp : {"gzip", "zstd", "none"}) {
      const std::string combo = std::string(fmt) + "+" + comp;
      double sum = stage["fetch"] + stage[std::string("transcode ") + fmt] + stage["md5 " + combo] +
                   stage["put " + combo];
      if (std::strcmp(comp, "none") != 0) sum += stage[std::string(comp) + " " + fmt];
      std::printf("%s\"%s\":%.4f", std::exchange(sep, ","), combo.c_str(), sum / gb);
    }
  }
  std::printf("}}\n");
  return 0;
}

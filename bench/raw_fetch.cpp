// ddb2s3-raw-fetch: the floor for any Scan client. Fetches every Scan page of a table over keep-alive
// HTTP (libcurl, one connection per segment) into a reused buffer and discards it, keeping only
// LastEvaluatedKey. No signing, no JSON parsing: the simulator does not check signatures.
// Usage: ddb2s3-raw-fetch [--cainfo PEM] ENDPOINT TABLE [TOTAL_SEGMENTS [THREADS]]
// An https:// ENDPOINT is verified against the CA certificates of --cainfo (else the system's); each
// connection's TLS handshake is done once and kept alive, as ddb2s3 does.
// Prints {"items":N,"pages":N,"bytes":N,"seconds":S} on stdout.
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "scan_text.h"

namespace {

using ddb2s3::bench::append_to_string;
using ddb2s3::bench::object_after;

struct Totals {
  std::atomic<uint64_t> items{0}, pages{0}, bytes{0};
  std::atomic<bool> failed{false};
};

uint64_t count_of(std::string_view body) {
  size_t at = body.find("\"Count\":");
  return at == std::string_view::npos ? 0 : std::strtoull(body.data() + at + 8, nullptr, 10);
}

void scan_segments(const std::string& endpoint, const std::string& cainfo, const std::string& table,
                   int first, int step, int total, Totals& totals) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
  h = curl_slist_append(h, "X-Amz-Target: DynamoDB_20120810.Scan");
  h = curl_slist_append(h, "Expect:");
  headers.reset(h);
  std::string body, request;
  body.reserve(2 << 20);
  curl_easy_setopt(c, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 64L << 10);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (!cainfo.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cainfo.c_str());
  for (int segment = first; segment < total && !totals.failed; segment += step) {
    std::string start_key;
    for (int attempt = 0;;) {
      request = "{\"TableName\":\"" + table + "\",\"Segment\":" + std::to_string(segment) +
                ",\"TotalSegments\":" + std::to_string(total);
      if (!start_key.empty()) request += ",\"ExclusiveStartKey\":" + start_key;
      request += "}";
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.size()));
      body.clear();
      CURLcode rc = curl_easy_perform(c);
      long status = 0;
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
      if (rc != CURLE_OK || status != 200) {  // injected faults: try the same page again, a few times
        if (++attempt > 10) {
          std::fprintf(stderr, "ddb2s3-raw-fetch: segment %d: %s, HTTP %ld\n", segment,
                       curl_easy_strerror(rc), status);
          totals.failed = true;
          return;
        }
        continue;
      }
      attempt = 0;
      totals.items += count_of(body);
      totals.pages++;
      totals.bytes += body.size();
      start_key = std::string(object_after(body, "\"LastEvaluatedKey\":"));
      if (start_key.empty()) break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string cainfo;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cainfo") == 0 && i + 1 < argc)
      cainfo = argv[++i];
    else
      args.emplace_back(argv[i]);
  }
  if (args.size() < 2) {
    std::fputs("usage: ddb2s3-raw-fetch [--cainfo PEM] ENDPOINT TABLE [TOTAL_SEGMENTS [THREADS]]\n", stderr);
    return 2;
  }
  std::string endpoint = args[0], table = args[1];
  int total = args.size() > 2 ? std::atoi(args[2].c_str()) : 1;
  int threads = args.size() > 3 ? std::atoi(args[3].c_str()) : total;
  if (total < 1 || threads < 1) return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Totals totals;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads && t < total; ++t) {
    workers.emplace_back(scan_segments, endpoint, cainfo, table, t, threads, total, std::ref(totals));
  }
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  curl_global_cleanup();
  std::printf("{\"items\":%lu,\"pages\":%lu,\"bytes\":%lu,\"seconds\":%.3f}\n",
              (unsigned long)totals.items.load(), (unsigned long)totals.pages.load(),
              (unsigned long)totals.bytes.load(), seconds);
  return totals.failed ? 1 : 0;
}

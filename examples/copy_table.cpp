// The library instead of the command line: copy a DynamoDB table into S3 (or a directory) with a
// per-item callback, like the Airflow operator's process_func. Here the callback drops items whose
// "status" is "deleted" and writes the others unchanged.
//
//   copy_table TABLE DEST [DYNAMODB_ENDPOINT [S3_ENDPOINT]]
//
// Credentials, region and endpoints otherwise come from the usual AWS environment and ~/.aws files.
#include <cstdio>
#include <string>
#include <string_view>

#include "report/summary.h"
#include "scan/scan.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TABLE DEST [DYNAMODB_ENDPOINT [S3_ENDPOINT]]\n", argv[0]);
    return 2;
  }
  ddb2s3::ScanOptions options;  // every field has a documented default (scan/scan.h)
  options.table = argv[1];
  auto dest = ddb2s3::Destination::parse(argv[2]);
  if (!dest) {
    std::fprintf(stderr, "%s\n", dest.error().to_string().c_str());
    return 2;
  }
  options.dest = *dest;
  if (argc > 3) options.source.endpoint_url = argv[3];
  if (argc > 4) options.dest_aws.endpoint_url = argv[4];
  options.total_segments = 4;
  options.compression = ddb2s3::Compression::kNone;

  // process_func: the line is the item as plain JSON (no trailing newline); append what to write.
  options.item_callback = [](std::string_view line, std::string& out) {
    if (line.find("\"status\":\"deleted\"") != std::string_view::npos) return;  // dropped
    out.append(line);
    out.push_back('\n');
  };

  auto summary = ddb2s3::run_scan(std::move(options));
  if (!summary) {
    std::fprintf(stderr, "copy failed: %s\n", summary.error().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", ddb2s3::summary_json(*summary).c_str());
  return 0;
}

// Verifying a finished run: what scan (or finalize) wrote is there, whole and as the manifests say.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "aws/config.h"
#include "aws/environment.h"
#include "aws/session.h"
#include "base/result.h"
#include "sink/sink.h"

namespace ddb2s3 {

struct VerifyOptions {
  Destination dest;  // s3://BUCKET/PREFIX or a local directory, as given to scan
  AwsOptions dest_aws;
  std::string expected_bucket_owner;
  std::string run_id;
  // Also download every data file: its MD5 against md5Checksum, decompress it, count its lines against
  // itemCount and parse each line as the run's format. Without it only listings and manifests are read.
  bool deep = false;
  int parallelism = 0;  // data files checked at once with deep; 0: min(4, cores)
  // Set it (e.g. from a SIGINT handler) to stop: verify_run() then fails as cancelled.
  std::atomic<bool>* cancel = nullptr;
  Environment env = Environment::process();
  SessionOptions session;
};

// One thing found wrong, about one object.
struct VerifyProblem {
  std::string key;       // the object's full S3 key, or the file's path
  std::string problem;   // what: "missing", "size differs", "MD5 differs", "line 7 is not valid JSONL"...
  std::string expected;  // what the manifests record (may be empty)
  std::string found;     // what is there (may be empty)
};

struct VerifyReport {
  std::string run_id;
  std::string destination;  // s3://bucket/prefix/run-id or the directory/run-id
  std::string bucket;       // empty for a local directory
  bool deep = false;
  uint64_t files = 0;       // data files in manifest-files.json
  uint64_t items = 0;       // their itemCounts, summed
  uint64_t bytes = 0;       // their sizes as found
  uint64_t lines = 0;       // lines read (deep only)
  uint64_t bytes_read = 0;  // bytes of data files downloaded (deep only)
  double seconds = 0;
  std::vector<std::string> checks;  // what was checked, one phrase each
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};

// Checks run_id under dest: manifest-summary.json exists and parses, and names manifest-files.json; every
// file there exists with the recorded size and ETag; no object under RUN/data/ is missing from it (segments/
// and checkpoints/ are not data); the summary's itemCount and fileCount match the files'. With deep, each
// data file is also read (in ranges of a few MiB, a few files at once: memory stays flat) and checked whole.
// Whatever is wrong goes into the report's problems. An Error only when verifying cannot be done: run_id is
// invalid (a usage error), the bucket or directory cannot be read, nothing is under RUN/ (no such run).
Result<VerifyReport> verify_run(VerifyOptions options);

}  // namespace ddb2s3

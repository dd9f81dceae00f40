// Real local servers for integration tests: dynalite (DynamoDB) and s3rver (S3), started once per
// test process on free loopback ports by tests/support/servers.js, and always stopped: at exit, and
// by the kernel (PR_SET_PDEATHSIG) and the closed stdin pipe if the test process dies.
#pragma once

#include <string>

namespace ddb2s3::testing {

struct LocalServers {
  std::string dynamodb;  // http://127.0.0.1:PORT
  std::string s3;        // http://127.0.0.1:PORT
  std::string s3_dir;    // s3rver's directory on disk
};

// Starts the servers on first use; aborts the test program with a clear message if they fail.
const LocalServers& local_servers();

// A name no other test (or earlier run) uses: prefix + pid + counter + random, lower case, valid as
// both a table name and a bucket name.
std::string unique_name(const std::string& prefix);

// The credentials the local servers accept (s3rver checks the key id: S3RVER / S3RVER).
inline constexpr const char* kTestAccessKey = "S3RVER";
inline constexpr const char* kTestSecretKey = "S3RVER";
inline constexpr const char* kTestRegion = "us-east-1";

// Paths for tests: the source tree, the build tree, and ../shared/testdata.
std::string source_dir();
std::string binary_dir();
std::string testdata_dir();

}  // namespace ddb2s3::testing

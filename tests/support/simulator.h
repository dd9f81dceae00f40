// The benchmark simulator (bench/sim, ddb2s3-sim) as a test fixture: a fast synthetic DynamoDB + S3 on
// free loopback ports, for tests that need a large table, injected faults or a read-capacity limit.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ddb2s3::testing {

// build/bench/ddb2s3-sim (built when DDB2S3_BENCH is on, the default).
std::string simulator_path();
bool simulator_built();

// A running ddb2s3-sim started with args (see bench/README.md), stopped (SIGTERM, then reaped) by the
// destructor. dynamodb() and s3() are empty when it did not start.
class Simulator {
 public:
  explicit Simulator(std::vector<std::string> args);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  const std::string& dynamodb() const { return dynamodb_; }
  const std::string& s3() const { return s3_; }

 private:
  pid_t pid_ = -1;
  std::string dynamodb_, s3_;
};

}  // namespace ddb2s3::testing

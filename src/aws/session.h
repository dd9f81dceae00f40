// One side's AWS configuration (source DynamoDB or destination S3), resolved once like the AWS CLI:
// profile files, region, endpoint, credentials chain, CA bundle and retry settings.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>

#include "aws/client.h"
#include "aws/config.h"
#include "aws/credentials.h"
#include "aws/environment.h"

namespace ddb2s3 {

struct SessionOptions {
  ChainOptions chain;  // tests point STS/IMDS/container endpoints at loopback servers
  // Attempts per request; 0: AWS_MAX_ATTEMPTS, else the profile's max_attempts, else RetryPolicy's default.
  int max_attempts = 0;
  // Becomes ServiceConfig::cancel: once set, retry back-off and the throttle pause stop at once.
  const std::atomic<bool>* cancel = nullptr;
};

// service: "dynamodb" or "s3". No network unless the region must come from EC2 instance metadata.
// A missing region (with no custom endpoint) is a usage Error that says where to set one.
Result<std::shared_ptr<ServiceConfig>> make_service_config(std::string_view service, const AwsOptions& options,
                                                           const Environment& env,
                                                           const SessionOptions& session = {});

}  // namespace ddb2s3

// Clients' settings for tests: the keys the local servers accept, and a ServiceConfig for an endpoint
// on loopback (dynalite, s3rver, or an in-process server).
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "support/servers.h"

namespace ddb2s3::testing {

// Fixed keys (kTestAccessKey/kTestSecretKey unless given), source "test".
std::shared_ptr<CredentialsProvider> test_credentials(std::string access_key_id = kTestAccessKey,
                                                      std::string secret_access_key = kTestSecretKey);

// service ("dynamodb", "s3"), region kTestRegion, endpoint, test_credentials(); the rest at defaults.
std::shared_ptr<ServiceConfig> test_service_config(std::string service, std::string endpoint);

}  // namespace ddb2s3::testing

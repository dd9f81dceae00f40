#include "support/aws_fixtures.h"

#include <utility>

namespace ddb2s3::testing {

std::shared_ptr<CredentialsProvider> test_credentials(std::string access_key_id,
                                                      std::string secret_access_key) {
  Credentials c;
  c.access_key_id = std::move(access_key_id);
  c.secret_access_key = std::move(secret_access_key);
  c.source = "test";
  return static_credentials(std::move(c));
}

std::shared_ptr<ServiceConfig> test_service_config(std::string service, std::string endpoint) {
  auto c = std::make_shared<ServiceConfig>();
  c->service = std::move(service);
  c->region = kTestRegion;
  c->endpoint = std::move(endpoint);
  c->credentials = test_credentials();
  return c;
}

}  // namespace ddb2s3::testing

// A ServiceConfig for a fuzz target's client: a loopback endpoint, fixed keys, one attempt, no sleeping.
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"

namespace ddb2s3::fuzz {

inline std::shared_ptr<ServiceConfig> loopback_config(std::string service, std::string endpoint) {
  auto config = std::make_shared<ServiceConfig>();
  config->service = std::move(service);
  config->region = "us-east-1";
  config->endpoint = std::move(endpoint);
  config->s3_path_style = true;
  Credentials keys;
  keys.access_key_id = "AKIDEXAMPLE";
  keys.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  keys.source = "fuzz";
  config->credentials = static_credentials(keys);
  config->retry.max_attempts = 1;
  config->http.connect_timeout = std::chrono::milliseconds(2000);
  config->http.read_timeout = std::chrono::milliseconds(5000);
  config->clock.sleep = [](std::chrono::milliseconds) {};
  config->clock.uniform01 = [] { return 0.5; };
  return config;
}

}  // namespace ddb2s3::fuzz

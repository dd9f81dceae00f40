// Credentials, resolved like the AWS CLI v2: first source that has them wins.
#pragma once

#include <memory>
#include <string>

#include "aws/environment.h"
#include "aws/result.h"
#include "aws/sigv4.h"

namespace ddb2s3 {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Thread-safe. Temporary credentials are refreshed before they expire.
  virtual Result<Credentials> credentials() = 0;
};

// Fixed keys (tests, and explicit keys).
std::shared_ptr<CredentialsProvider> static_credentials(Credentials c);

}  // namespace ddb2s3

#include <cstdio>
#include <cstring>

#include "version.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ddb2s3 %s\n", DDB2S3_VERSION);
    return 0;
  }
  std::printf("ddb2s3 %s: copy a DynamoDB table to S3\n", DDB2S3_VERSION);
  return 0;
}

// examples/copy_table.cpp, built and run as a user would: it copies a real (dynalite) table into a
// directory through the library, and its process_func drops the items marked deleted.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "aws/credentials.h"
#include "dynamodb/dynamodb.h"
#include "support/servers.h"

namespace ddb2s3::testing {
namespace {

std::string run(const std::string& command, int& exit_code) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(Example, CopyTableDropsDeletedItems) {
  const auto& servers = local_servers();
  auto config = std::make_shared<ServiceConfig>();
  config->service = "dynamodb";
  config->region = kTestRegion;
  config->endpoint = servers.dynamodb;
  config->credentials = static_credentials(Credentials{kTestAccessKey, kTestSecretKey, "", std::nullopt, "test"});
  DynamoDbClient ddb(config);
  const std::string table = unique_name("example");
  ASSERT_TRUE(ddb.create_table(CreateTableRequest{table, KeyAttribute{"id", "S"}, std::nullopt, {}}).ok());
  std::vector<std::string> items;
  for (int i = 0; i < 300; ++i) {
    items.push_back("{\"id\":{\"S\":\"item-" + std::to_string(i) + "\"},\"status\":{\"S\":\"" +
                    (i % 3 == 0 ? "deleted" : "live") + "\"}}");
  }
  ASSERT_TRUE(ddb.batch_write(table, items).ok());

  auto dir = std::filesystem::temp_directory_path() / unique_name("example-out");
  std::string command = "env -i PATH=/usr/bin:/bin HOME=" + dir.string() +
                        " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1"
                        " AWS_EC2_METADATA_DISABLED=true " +
                        binary_dir() + "/examples/example_copy_table " + table + " " + dir.string() + " " +
                        servers.dynamodb;
  int code = -1;
  std::string summary = run(command, code);
  ASSERT_EQ(code, 0) << summary;
  EXPECT_NE(summary.find("\"itemCount\":200"), std::string::npos) << summary;

  std::set<std::string> ids;
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().parent_path().filename() != "data") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_EQ(line.find("deleted"), std::string::npos) << line;
      ids.insert(line);
    }
  }
  EXPECT_EQ(ids.size(), 200u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ddb2s3::testing

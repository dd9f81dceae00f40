// examples/copy_table.cpp, built and run as a user would: it copies a real (dynalite) table into a
// directory through the library, and its process_func drops the items marked deleted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "dynamodb/dynamodb.h"
#include "support/aws_fixtures.h"
#include "support/process.h"

namespace ddb2s3::testing {
namespace {

TEST(Example, CopyTableDropsDeletedItems) {
  const auto& servers = local_servers();
  DynamoDbClient ddb(test_service_config("dynamodb", servers.dynamodb));
  const std::string table = unique_name("example");
  ASSERT_TRUE(ddb.create_table(CreateTableRequest{table, KeyAttribute{"id", "S"}, std::nullopt, {}}).ok());
  std::vector<std::string> items;
  for (int i = 0; i < 300; ++i) {
    items.push_back("{\"id\":{\"S\":\"item-" + std::to_string(i) + "\"},\"status\":{\"S\":\"" +
                    (i % 3 == 0 ? "deleted" : "live") + "\"}}");
  }
  ASSERT_TRUE(ddb.batch_write(table, items).ok());

  TempDir out;
  const std::string dir = out.path() + "/copy";
  auto run = run_process({binary_dir() + "/examples/example_copy_table", table, dir, servers.dynamodb},
                         {{"PATH", "/usr/bin:/bin"},
                          {"HOME", dir},
                          {"AWS_ACCESS_KEY_ID", kTestAccessKey},
                          {"AWS_SECRET_ACCESS_KEY", kTestSecretKey},
                          {"AWS_REGION", kTestRegion},
                          {"AWS_EC2_METADATA_DISABLED", "true"}});
  const std::string& summary = run.out;
  ASSERT_EQ(run.exit_code, 0) << summary << run.err;
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
}

}  // namespace
}  // namespace ddb2s3::testing

// The harness itself: both servers answer on loopback, and names never repeat.
#include <gtest/gtest.h>

#include <set>

#include "support/servers.h"

namespace ddb2s3::testing {

TEST(Harness, ServersListenOnLoopback) {
  const auto& s = local_servers();
  EXPECT_EQ(s.dynamodb.rfind("http://127.0.0.1:", 0), 0u) << s.dynamodb;
  EXPECT_EQ(s.s3.rfind("http://127.0.0.1:", 0), 0u) << s.s3;
  EXPECT_NE(s.dynamodb, s.s3);
}

TEST(Harness, UniqueNamesDoNotRepeat) {
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) names.insert(unique_name("t"));
  EXPECT_EQ(names.size(), 100u);
}

}  // namespace ddb2s3::testing

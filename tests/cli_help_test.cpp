// `ddb2s3 --version` and `--help`: what a new user types first. No server is needed.
#include <gtest/gtest.h>

#include "support/process.h"

namespace ddb2s3::testing {
namespace {

const std::map<std::string, std::string> kEnv = {{"PATH", "/usr/bin:/bin"}};

TEST(CliHelp, VersionPrintsNameAndVersion) {
  auto r = run_process(ddb2s3_argv({"--version"}), kEnv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ddb2s3 ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find('.'), std::string::npos) << r.out;  // a dotted version number
}

TEST(CliHelp, HelpListsEveryCommand) {
  auto r = run_process(ddb2s3_argv({"--help"}), kEnv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* command : {"scan", "finalize", "verify", "export", "export-status", "exports", "merge"})
    EXPECT_NE(r.out.find(command), std::string::npos) << command << " missing from:\n" << r.out;
  EXPECT_NE(r.out.find("AWS_ENDPOINT_URL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Ctrl-C or SIGTERM stops at once"), std::string::npos) << r.out;
}

TEST(CliHelp, ScanHelpNamesTheOperatorsOptions) {
  auto r = run_process(ddb2s3_argv({"scan", "--help"}), kEnv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* option : {"--scan-kwargs", "--file-size", "--total-segments", "--segment",
                             "--source-profile", "--dest-endpoint-url", "--sse", "--s3-extra-args",
                             "--format", "--compression", "--max-rcu", "--read-capacity-percent"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

TEST(CliHelp, VerifyHelpNamesItsOptions) {
  auto r = run_process(ddb2s3_argv({"verify", "--help"}), kEnv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* option : {"DEST", "--run-id", "--deep", "--json", "--dest-profile", "--dest-region",
                             "--dest-endpoint-url", "--expected-bucket-owner"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from:\n" << r.out;
}

TEST(CliHelp, UnknownOptionIsAUsageError) {
  auto r = run_process(ddb2s3_argv({"scan", "t", "s3://bucket/p", "--no-such-option"}), kEnv);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ddb2s3::testing

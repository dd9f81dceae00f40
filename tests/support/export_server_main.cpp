// export_test_server: the export test server (support/export_server.h) as a process, for the Python tests.
//   export_test_server [--table NAME]... [--polls-in-progress N] [--fail]
//                      [--dynamodb-endpoint URL --s3-endpoint URL [--access-key K --secret-key S]]
// Prints one JSON line {"url": URL} and serves until its stdin closes (its parent finished or died).
//
// With --dynamodb-endpoint and --s3-endpoint, a completed export also writes its files into S3 as a real one
// does (ExportServer::write_exports), computed from that DynamoDB's table of the same name; the keys sign the
// server's own requests to both (default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of its environment).
// Commands on stdin, one per line, each answered by one line on stdout ("ok", or what went wrong):
//   snapshot TABLE EPOCH_SECONDS   scan TABLE now and keep it as its contents at that time
//                                  (ExportServer::record_snapshot)
//   fail on|off                    exports started from now on end FAILED / COMPLETED
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/export_server.h"

namespace {

constexpr const char* kUsage =
    "usage: export_test_server [--table NAME]... [--polls-in-progress N] [--fail]\n"
    "                          [--dynamodb-endpoint URL --s3-endpoint URL [--access-key K --secret-key S]]\n"
    "then on stdin, one per line: snapshot TABLE EPOCH_SECONDS | fail on|off\n";

// One command line from stdin: the answer line ("ok" or the error).
std::string command(ddb2s3::testing::ExportServer& server, ddb2s3::testing::ExportServer::Schedule& schedule,
                    const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb == "snapshot") {
    std::string table, at_text, rest;
    if (!(in >> table >> at_text) || (in >> rest)) return "usage: snapshot TABLE EPOCH_SECONDS";
    char* end = nullptr;
    const double at = std::strtod(at_text.c_str(), &end);
    if (end == at_text.c_str() || *end != '\0') return "snapshot: not a time in epoch seconds: " + at_text;
    const std::string error = server.record_snapshot(table, at);
    return error.empty() ? "ok" : "snapshot: " + error;
  }
  if (verb == "fail") {
    std::string value, rest;
    if (!(in >> value) || (in >> rest) || (value != "on" && value != "off")) return "usage: fail on|off";
    schedule.fail = value == "on";
    server.set_schedule(schedule);
    return "ok";
  }
  return "unknown command: " + line + " (snapshot TABLE EPOCH_SECONDS | fail on|off)";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tables;
  ddb2s3::testing::ExportServer::Schedule schedule;
  ddb2s3::testing::ExportServer::Backing backing;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--table" && has_value) {
      tables.emplace_back(argv[++i]);
    } else if (arg == "--polls-in-progress" && has_value) {
      char* end = nullptr;
      const long n = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 0) {
        std::cerr << "export_test_server: --polls-in-progress takes a count, not " << argv[i] << "\n";
        return 2;
      }
      schedule.polls_in_progress = static_cast<int>(n);
    } else if (arg == "--fail") {
      schedule.fail = true;
    } else if (arg == "--dynamodb-endpoint" && has_value) {
      backing.dynamodb_endpoint = argv[++i];
    } else if (arg == "--s3-endpoint" && has_value) {
      backing.s3_endpoint = argv[++i];
    } else if (arg == "--access-key" && has_value) {
      backing.access_key = argv[++i];
    } else if (arg == "--secret-key" && has_value) {
      backing.secret_key = argv[++i];
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if (backing.dynamodb_endpoint.empty() != backing.s3_endpoint.empty()) {
    std::cerr << "export_test_server: --dynamodb-endpoint and --s3-endpoint go together\n" << kUsage;
    return 2;
  }
  const bool backed = !backing.dynamodb_endpoint.empty();
  if (!backed && (!backing.access_key.empty() || !backing.secret_key.empty())) {
    std::cerr << "export_test_server: --access-key and --secret-key go with --dynamodb-endpoint\n" << kUsage;
    return 2;
  }
  if (backed) {
    for (auto [key, variable] : {std::pair{&backing.access_key, "AWS_ACCESS_KEY_ID"},
                                 std::pair{&backing.secret_key, "AWS_SECRET_ACCESS_KEY"}}) {
      const char* value = std::getenv(variable);
      if (key->empty() && value != nullptr) *key = value;
    }
    if (backing.access_key.empty() || backing.secret_key.empty()) {
      std::cerr << "export_test_server: --access-key and --secret-key (or AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY) are needed to write exports\n";
      return 2;
    }
  }
  ddb2s3::testing::ExportServer server;
  server.set_schedule(schedule);
  for (const auto& t : tables) server.add_table(t);
  if (backed) server.write_exports(backing);
  std::cout << "{\"url\": \"" << server.url() << "\"}" << std::endl;
  // Serve (and answer commands) until stdin closes.
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::cout << command(server, schedule, line) << std::endl;
  }
  return 0;
}

// export_test_server: the export test server (support/export_server.h) as a process, for the Python tests.
//   export_test_server [--table NAME]... [--polls-in-progress N] [--fail]
// Prints one JSON line {"url": URL} and serves until its stdin closes (its parent finished or died).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/export_server.h"

int main(int argc, char** argv) {
  std::vector<std::string> tables;
  ddb2s3::testing::ExportServer::Schedule schedule;
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
    } else {
      std::cerr << "usage: export_test_server [--table NAME]... [--polls-in-progress N] [--fail]\n";
      return 2;
    }
  }
  ddb2s3::testing::ExportServer server;
  server.set_schedule(schedule);
  for (const auto& t : tables) server.add_table(t);
  std::cout << "{\"url\": \"" << server.url() << "\"}" << std::endl;
  // Serve until stdin closes.
  for (int c = std::getchar(); c != EOF; c = std::getchar()) {
  }
  return 0;
}

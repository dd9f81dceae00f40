// What the point-in-time tests share: dynalite holding a table, the export test server writing exports of it
// into s3rver, and the two views a test compares: a fresh consistent scan of the table, and the items of a
// snapshot's data files ({"Item":...} lines), both as sorted multisets of canonical items.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dynamodb/dynamodb.h"
#include "s3/s3.h"
#include "sink/sink.h"
#include "support/export_server.h"
#include "support/scan_fixtures.h"

namespace ddb2s3::testing {

double now_seconds();

// Canonical items of the {"Item":...} lines of the gzip data files under dest's data/, sorted.
std::vector<std::string> snapshot_items(LocalAws& aws, const Destination& dest);

class PitrFixture : public ::testing::Test {
 protected:
  // A table (hash key id, S) and a bucket named after prefix; the export server knows the table.
  void open(const std::string& prefix);

  void put(const std::vector<std::string>& items);
  void remove(const std::vector<std::string>& ids);
  // The table's contents at `at`, as the export server's exports will see them.
  void snapshot(double at);
  // The table now (a consistent scan), canonical and sorted.
  std::vector<std::string> scanned();
  // The snapshot's items under s3://bucket_/prefix.
  std::vector<std::string> items_at(const std::string& prefix);
  Destination folder(const std::string& prefix) const;
  // A client of the local S3 (s3rver), to put, change or remove objects as another program would.
  S3Client& s3() { return *s3_; }

  LocalAws aws_;
  ExportServer server_;
  std::string table_, bucket_;
  std::unique_ptr<DynamoDbClient> ddb_;
  std::unique_ptr<S3Client> s3_;
};

}  // namespace ddb2s3::testing

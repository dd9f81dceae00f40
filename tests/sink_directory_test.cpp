// The local-directory sink: files appear under their final names only when finished, aborts leave
// nothing behind, and get/put/list see the same layout as S3 keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sink/sink.h"
#include "support/files.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;

using testing::md5_base64_of;
using testing::md5_hex_of;
using testing::read_file;
using testing::TempDir;

// Every file under root, relative, so a test can say "nothing else is there".
std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

class DirectorySinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    root_ = fs::path(tmp_.path()) / "out";
    auto d = Destination::parse(root_.string() + "/");
    ASSERT_TRUE(d.ok());
    dest_ = *d;
    sink_ = make_directory_sink(dest_);
    Status s = sink_->check();
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }

  TempDir tmp_;
  fs::path root_;
  Destination dest_;
  std::unique_ptr<Sink> sink_;
};

TEST_F(DirectorySinkTest, CheckMakesTheDirectoryAndFailsWhereNoneCanBeMade) {
  EXPECT_TRUE(fs::is_directory(root_));
  std::ofstream(fs::path(tmp_.path()) / "a-file") << "x";
  auto d = Destination::parse((fs::path(tmp_.path()) / "a-file" / "sub").string());
  ASSERT_TRUE(d.ok());
  Status s = make_directory_sink(*d)->check();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kIo);
  EXPECT_NE(s.error().to_string().find("a-file"), std::string::npos) << s.error().to_string();
}

TEST_F(DirectorySinkTest, AFileAppearsUnderItsNameOnlyWhenFinished) {
  auto w = sink_->open("run/data/0.json");
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  std::string content;
  for (int i = 0; i < 1000; ++i) {
    std::string line = "{\"n\":" + std::to_string(i) + "}\n";
    content += line;
    ASSERT_TRUE((*w)->write(line).ok());
  }
  EXPECT_FALSE(fs::exists(root_ / "run/data/0.json"));
  auto listed = sink_->list("run/");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());  // a file being written is not listed

  auto stored = (*w)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->key, "run/data/0.json");
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->md5_base64, md5_base64_of(content));
  EXPECT_EQ(stored->etag, md5_hex_of(content));
  EXPECT_EQ(read_file(root_ / "run/data/0.json"), content);
  EXPECT_EQ(files_under(root_), std::vector<std::string>{"run/data/0.json"});
}

TEST_F(DirectorySinkTest, AbortAndDestructionWithoutFinishLeaveNothing) {
  auto w = sink_->open("run/data/1.json");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("partial data").ok());
  (*w)->abort();
  {
    auto dropped = sink_->open("run/data/2.json");
    ASSERT_TRUE(dropped.ok());
    ASSERT_TRUE((*dropped)->write("more partial data").ok());
  }
  EXPECT_TRUE(files_under(root_).empty());
}

TEST_F(DirectorySinkTest, PutThenGetAndAMissingFileIsNullopt) {
  auto stored = sink_->put("run/manifest-summary.json", "{\"a\":1}", "application/json");
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->size, 7u);
  EXPECT_EQ(stored->md5_base64, md5_base64_of("{\"a\":1}"));
  auto back = sink_->get("run/manifest-summary.json");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, "{\"a\":1}");
  auto missing = sink_->get("run/nothing.json");
  ASSERT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_FALSE(missing->has_value());
  // Overwriting replaces the whole content.
  ASSERT_TRUE(sink_->put("run/manifest-summary.json", "{}", "application/json").ok());
  EXPECT_EQ(**sink_->get("run/manifest-summary.json"), "{}");
}

TEST_F(DirectorySinkTest, ListGivesSortedKeysUnderAKeyPrefix) {
  for (const char* key : {"run/segments/2.json", "run/segments/10.json", "run/segments/1.json",
                          "run/other.json", "run2/segments/1.json"})
    ASSERT_TRUE(sink_->put(key, key, "application/json").ok());
  auto open = sink_->open("run/segments/3.json");  // still being written: not listed
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE((*open)->write("x").ok());

  auto keys = sink_->list("run/segments/");
  ASSERT_TRUE(keys.ok()) << keys.error().to_string();
  EXPECT_EQ(*keys,
            (std::vector<std::string>{"run/segments/1.json", "run/segments/10.json", "run/segments/2.json"}));
  keys = sink_->list("run/seg");  // a prefix need not end at a '/'
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 3u);
  keys = sink_->list("run/");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 4u);  // not run2/
  keys = sink_->list("absent/");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
  EXPECT_EQ(sink_->describe("run/x.json"), root_.string() + "/run/x.json");
}

// What resume needs: a killed writer's NAME.partial is listed as unfinished (by NAME), and remove() takes a
// file and its leftover .partial away, a missing one being no error.
TEST_F(DirectorySinkTest, UnfinishedFilesAreListedAndRemovedWithTheirNames) {
  ASSERT_TRUE(sink_->put("run/data/0000-00000.json", "a\n", "").ok());
  ASSERT_TRUE(sink_->put("run/data/0000-00001.json", "b\n", "").ok());
  auto open = sink_->open("run/data/0000-00002.json");  // as a killed process leaves it
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE((*open)->write("half").ok());
  auto unfinished = sink_->list_unfinished("run/data/");
  ASSERT_TRUE(unfinished.ok()) << unfinished.error().to_string();
  EXPECT_EQ(*unfinished, std::vector<std::string>{"run/data/0000-00002.json"});
  auto finished = sink_->list("run/data/");
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(finished->size(), 2u);

  ASSERT_TRUE(sink_->remove("run/data/0000-00002.json").ok());
  ASSERT_TRUE(sink_->remove("run/data/0000-00001.json").ok());
  Status missing = sink_->remove("run/data/0000-00009.json");
  EXPECT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_EQ(files_under(root_), std::vector<std::string>{"run/data/0000-00000.json"});
  (*open)->abort();  // its file is gone already: nothing left to remove, no error
}

}  // namespace
}  // namespace ddb2s3

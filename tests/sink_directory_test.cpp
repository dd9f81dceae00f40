// The local-directory sink: files appear under their final names only when finished, aborts leave
// nothing behind, and get/put/list see the same layout as S3 keys.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sink/sink.h"
#include "support/files.h"
#include "support/mount.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;

using testing::files_under;
using testing::md5_base64_of;
using testing::md5_hex_of;
using testing::random_bytes;
using testing::read_file;
using testing::ScratchMount;
using testing::TempDir;

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

TEST_F(DirectorySinkTest, ListObjectsGivesSizesAndTheMd5AsETagAndReadGivesRanges) {
  auto stored = sink_->put("run/data/0000-00000.json", "hello, world\n", "");
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  ASSERT_TRUE(sink_->put("run/manifest-files.json", "{}", "").ok());
  auto open = sink_->open("run/data/0000-00001.json");  // unfinished: listed as what is on disk
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE((*open)->write("xy").ok());

  auto objects = sink_->list_objects("run/data/");
  ASSERT_TRUE(objects.ok()) << objects.error().to_string();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].key, "run/data/0000-00000.json");
  EXPECT_EQ((*objects)[0].size, 13u);
  EXPECT_EQ((*objects)[0].etag, stored->etag) << "the ETag the sink recorded when it wrote the file";
  EXPECT_EQ((*objects)[0].etag, md5_hex_of("hello, world\n"));
  EXPECT_EQ((*objects)[1].key, "run/data/0000-00001.json.partial");
  EXPECT_EQ((*objects)[1].size, 2u);

  std::string out = "old contents";
  ASSERT_TRUE(sink_->read("run/data/0000-00000.json", 7, 5, out).ok());
  EXPECT_EQ(out, "world");
  ASSERT_TRUE(sink_->read("run/data/0000-00000.json", 7, 100, out).ok());
  EXPECT_EQ(out, "world\n") << "fewer bytes at the end";
  Status missing = sink_->read("run/data/absent.json", 0, 10, out);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().to_string().find("run/data/absent.json"), std::string::npos);
}

// A full disk and a read-only one, for real: a tmpfs of the test's own (root ignores permission bits, so a
// chmod'ed directory would not fail; /dev/full fails every write alike and has no directory to publish in).
std::unique_ptr<Sink> sink_on(const std::string& directory) {
  auto d = Destination::parse(directory);
  return d.ok() ? make_directory_sink(*d) : nullptr;
}

TEST(DirectorySinkFaults, AFullDiskFailsNamingTheFileAndTheOsErrorAndPublishesNothing) {
  ScratchMount disk(64 << 10, /*read_only=*/false);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  auto sink = sink_on(disk.path() + "/out");
  ASSERT_TRUE(sink->check().ok());
  const std::string key = "run/data/0000-00000.json";
  {
    auto writer = sink->open(key);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    Status s;
    for (int i = 0; i < 8 && s.ok(); ++i) s = (*writer)->write(random_bytes(32 << 10, i));  // 256 KiB
    ASSERT_FALSE(s.ok()) << "256 KiB fit on a 64 KiB tmpfs";
    const Error& e = s.error();
    EXPECT_EQ(e.kind, ErrorKind::kIo);
    EXPECT_NE(e.message.find(disk.path() + "/out/" + key), std::string::npos) << e.message;
    EXPECT_NE(e.message.find(std::strerror(ENOSPC)), std::string::npos) << e.message;
    EXPECT_NE(e.hint.find("is full"), std::string::npos) << e.hint;
    EXPECT_NE(e.hint.find("df -h"), std::string::npos) << e.hint;
  }  // the writer is dropped unfinished, as the scan does on an error
  EXPECT_EQ(files_under(disk.path()), std::vector<std::string>{});  // neither NAME nor NAME.partial
}

TEST(DirectorySinkFaults, AManifestThatDoesNotFitIsNotWritten) {
  ScratchMount disk(16 << 10, /*read_only=*/false);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  auto sink = sink_on(disk.path());
  ASSERT_TRUE(sink->check().ok());
  ASSERT_TRUE(sink->put("run/data/0000-00000.json", "{}\n", "").ok());
  auto put = sink->put("run/manifest-files.json", random_bytes(64 << 10, 7), "application/json");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find(disk.path() + "/run/manifest-files.json"), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find(std::strerror(ENOSPC)), std::string::npos) << put.error().message;
  EXPECT_EQ(files_under(disk.path()), std::vector<std::string>{"run/data/0000-00000.json"});
}

TEST(DirectorySinkFaults, AReadOnlyDirectoryFailsTheCheckWithWhatToDo) {
  ScratchMount disk(64 << 10, /*read_only=*/true);
  ASSERT_FALSE(disk.path().empty()) << disk.error();
  for (const std::string& dir : {disk.path(), disk.path() + "/out"}) {
    auto sink = sink_on(dir);
    Status s = sink->check();
    ASSERT_FALSE(s.ok()) << dir;
    EXPECT_EQ(s.error().kind, ErrorKind::kIo);
    EXPECT_NE(s.error().message.find(dir), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find(std::strerror(EROFS)), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().hint.find("read-only file system"), std::string::npos) << s.error().hint;
    auto put = sink->put("run/manifest-summary.json", "{}", "application/json");
    ASSERT_FALSE(put.ok());
    EXPECT_NE(put.error().message.find(std::strerror(EROFS)), std::string::npos) << put.error().message;
  }
  EXPECT_EQ(files_under(disk.path()), std::vector<std::string>{});
}

// A file size limit (ulimit -f) gives EFBIG, not ENOSPC: the hint names file_size (the CLI says --file-size).
TEST_F(DirectorySinkTest, AFileSizeLimitNamesFileSize) {
  struct rlimit before {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // else the kernel ends the process
  struct rlimit small = before;
  small.rlim_cur = 64 << 10;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s;
  {
    auto writer = sink_->open("run/data/big.json");
    ASSERT_TRUE(writer.ok());
    s = (*writer)->write(random_bytes(128 << 10, 9));
  }
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(std::strerror(EFBIG)), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().field, "file_size");
  EXPECT_NE(s.error().hint.find("smaller file_size"), std::string::npos) << s.error().hint;
  EXPECT_EQ(files_under(root_), std::vector<std::string>{});
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

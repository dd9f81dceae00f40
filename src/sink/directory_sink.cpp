// The local-directory sink: the same layout as S3, written as files; a file appears under its final
// name only when finished (written as NAME.partial, then renamed), so a crash never leaves a
// half-written data file that looks complete.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "sink/sink.h"

namespace ddb2s3 {
namespace {

namespace fs = std::filesystem;

Error file_error(const std::string& what, const std::string& path, int err) {
  Error e = Error::io(what + " '" + path + "': " + std::strerror(err));
  e.resource = path;
  return e;
}

Status make_parent_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return file_error("cannot create the directory of", path, ec.value());
  return {};
}

class FileWriter final : public ObjectWriter {
 public:
  FileWriter(std::string key, std::string path, UniqueFd fd, Md5 md5)
      : key_(std::move(key)), path_(std::move(path)), fd_(std::move(fd)), md5_(std::move(md5)) {}
  ~FileWriter() override { abort(); }

  Status write(std::string_view bytes) override {
    md5_.update(bytes);
    size_ += bytes.size();
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return file_error("cannot write", partial(), errno);
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  Result<StoredObject> finish() override {
    int fd = fd_.release();
    if (::close(fd) != 0) return file_error("cannot close", partial(), errno);
    if (::rename(partial().c_str(), path_.c_str()) != 0) return file_error("cannot rename", partial(), errno);
    done_ = true;
    return StoredObject{key_, size_, md5_.base64_digest(), md5_.hex_digest()};
  }

  void abort() override {
    if (done_) return;
    done_ = true;
    fd_.reset();
    ::unlink(partial().c_str());
  }

 private:
  std::string partial() const { return path_ + ".partial"; }
  std::string key_, path_;
  UniqueFd fd_;
  Md5 md5_;
  uint64_t size_ = 0;
  bool done_ = false;
};

class DirectorySink final : public Sink {
 public:
  explicit DirectorySink(Destination dest) : dest_(std::move(dest)) {}

  Status check() override {
    std::error_code ec;
    fs::create_directories(dest_.directory, ec);
    if (ec) return file_error("cannot create the destination directory", dest_.directory, ec.value());
    if (::access(dest_.directory.c_str(), W_OK) != 0)
      return file_error("cannot write to the destination directory", dest_.directory, errno);
    return {};
  }

  Result<std::unique_ptr<ObjectWriter>> open(const std::string& key) override {
    std::string path = describe(key);
    DDB2S3_RETURN_IF_ERROR(make_parent_dirs(path));
    DDB2S3_ASSIGN_OR_RETURN(auto md5, Md5::make());
    std::string partial = path + ".partial";
    UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return file_error("cannot create", partial, errno);
    return std::unique_ptr<ObjectWriter>(
        std::make_unique<FileWriter>(key, path, std::move(fd), std::move(md5)));
  }

  // As a data file: NAME.partial, renamed when whole, so a crash while writing (a checkpoint, say) leaves
  // the previous version of the object in place.
  Result<StoredObject> put(const std::string& key, std::string_view bytes, std::string_view) override {
    DDB2S3_ASSIGN_OR_RETURN(auto writer, open(key));
    DDB2S3_RETURN_IF_ERROR(writer->write(bytes));
    return writer->finish();
  }

  Result<std::optional<std::string>> get(const std::string& key) override {
    std::string path = describe(key);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (errno == ENOENT) return std::optional<std::string>{};
      return file_error("cannot read", path, errno);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::optional<std::string>(ss.str());
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override { return walk(prefix, false); }

  Status remove(const std::string& key) override {
    std::string path = describe(key);
    for (const std::string& p : {path + ".partial", path}) {
      if (::unlink(p.c_str()) != 0 && errno != ENOENT) return file_error("cannot remove", p, errno);
    }
    return {};
  }

  Result<std::vector<std::string>> list_unfinished(const std::string& prefix) override {
    return walk(prefix, true);
  }

  std::string describe(std::string_view key) const override { return dest_.describe(key); }

 private:
  // Keys under prefix of finished files, or (unfinished) of NAME.partial files, as NAME.
  Result<std::vector<std::string>> walk(const std::string& prefix, bool unfinished) {
    std::vector<std::string> keys;
    fs::path root(dest_.directory);
    // The prefix is a key prefix; walk its directory part and filter by the whole prefix.
    fs::path start = root / fs::path(prefix).parent_path();
    std::error_code ec;
    if (!fs::exists(start, ec)) return keys;
    for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = fs::relative(it->path(), root, ec).generic_string();
      constexpr std::string_view kPartial = ".partial";
      if (rel.ends_with(kPartial) != unfinished) continue;
      if (unfinished) rel.resize(rel.size() - kPartial.size());
      if (rel.compare(0, prefix.size(), prefix) == 0) keys.push_back(std::move(rel));
    }
    if (ec) return file_error("cannot list", start.string(), ec.value());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  Destination dest_;
};

}  // namespace

std::unique_ptr<Sink> make_directory_sink(const Destination& dest) { return std::make_unique<DirectorySink>(dest); }

}  // namespace ddb2s3

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

// What the user can do about a file system error (the OS error itself is in the message).
std::string file_error_hint(int err, const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return "the file system holding '" + dir + "' is full (or its quota is used up): free space there " +
             "(df -h '" + dir + "') or choose another destination, then run the copy again";
    case EROFS:
      return "'" + dir + "' is on a read-only file system: choose a writable destination directory";
    case EACCES:
    case EPERM:
      return "this user may not write in '" + dir + "': check its permissions or choose another destination";
    case EFBIG:
      return "the file is larger than the file system or the file size limit (ulimit -f) allows: choose a "
             "smaller file_size or another destination";
    case EIO:
      return "the device holding '" + dir + "' reported an I/O error: check it (dmesg) or choose another one";
    default:
      return {};
  }
}

Error file_error(const std::string& what, const std::string& path, int err) {
  Error e = Error::io(what + " '" + path + "': " + std::strerror(err));
  e.resource = path;
  e.hint = file_error_hint(err, path);
  if (err == EFBIG) e.field = "file_size";  // the hint names it: the CLI says its flag
  return e;
}

// A file being written failed: it is not published (NAME.partial is removed by the writer), which the
// message says, naming the file as the manifests would.
Error write_error(const std::string& what, const std::string& path, int err) {
  Error e = file_error(what, path, err);
  e.message += " (nothing was written under that name: its .partial file is removed)";
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
        return write_error("cannot write", path_, errno);
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  Result<StoredObject> finish() override {
    int fd = fd_.release();
    // Some file systems (NFS, quotas) report a full disk only when the file is closed.
    if (::close(fd) != 0) return write_error("cannot write", path_, errno);
    if (::rename(partial().c_str(), path_.c_str()) != 0)
      return write_error("cannot rename '" + partial() + "' to", path_, errno);
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
    if (fd.get() < 0) return file_error("cannot create", partial, errno);  // nothing to remove
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

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    DDB2S3_ASSIGN_OR_RETURN(auto keys, files_under(prefix));
    std::erase_if(keys, [](const std::string& key) { return key.ends_with(".partial"); });
    return keys;
  }

  Result<std::vector<ObjectSummary>> list_objects(const std::string& prefix) override {
    DDB2S3_ASSIGN_OR_RETURN(auto keys, files_under(prefix));
    std::vector<ObjectSummary> objects(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      DDB2S3_ASSIGN_OR_RETURN(objects[i].etag, file_md5_hex(describe(keys[i]), objects[i].size));
      objects[i].key = std::move(keys[i]);
    }
    return objects;
  }

  Status read(const std::string& key, uint64_t offset, uint64_t length, std::string& out) override {
    out.clear();
    std::string path = describe(key);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return file_error("cannot open", path, errno);
    out.resize(length);
    size_t got = 0;
    while (got < length) {
      ssize_t n = ::pread(fd.get(), out.data() + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        out.clear();
        return file_error("cannot read", path, errno);
      }
      if (n == 0) break;  // the end of the file
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return {};
  }

  Status remove(const std::string& key) override {
    std::string path = describe(key);
    for (const std::string& p : {path + ".partial", path}) {
      if (::unlink(p.c_str()) != 0 && errno != ENOENT) return file_error("cannot remove", p, errno);
    }
    return {};
  }

  // The NAME.partial files under prefix, as NAME.
  Result<std::vector<std::string>> list_unfinished(const std::string& prefix) override {
    constexpr std::string_view kPartial = ".partial";
    DDB2S3_ASSIGN_OR_RETURN(auto keys, files_under(prefix));
    std::erase_if(keys, [&](const std::string& key) { return !key.ends_with(kPartial); });
    for (auto& key : keys) key.resize(key.size() - kPartial.size());
    return keys;
  }

  std::string describe(std::string_view key) const override { return dest_.describe(key); }

 private:
  // The keys (paths relative to the directory) of the regular files whose key starts with prefix, sorted.
  Result<std::vector<std::string>> files_under(const std::string& prefix) const {
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
      if (rel.compare(0, prefix.size(), prefix) == 0) keys.push_back(std::move(rel));
    }
    if (ec) return file_error("cannot list", start.string(), ec.value());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // The hex MD5 of a file's bytes (the ETag this sink records) and its size, read in 1 MiB blocks.
  static Result<std::string> file_md5_hex(const std::string& path, uint64_t& size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return file_error("cannot open", path, errno);
    DDB2S3_ASSIGN_OR_RETURN(auto md5, Md5::make());
    std::string block(1 << 20, '\0');
    size = 0;
    while (true) {
      ssize_t n = ::read(fd.get(), block.data(), block.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return file_error("cannot read", path, errno);
      }
      if (n == 0) break;
      md5.update(std::string_view(block.data(), static_cast<size_t>(n)));
      size += static_cast<uint64_t>(n);
    }
    return md5.hex_digest();
  }

  Destination dest_;
};

}  // namespace

std::unique_ptr<Sink> make_directory_sink(const Destination& dest) { return std::make_unique<DirectorySink>(dest); }

}  // namespace ddb2s3

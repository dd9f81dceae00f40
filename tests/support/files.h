// Files for tests: a temporary directory removed at the end, whole-file reads and writes, and a
// temporary HOME for the AWS configuration (so that no test reads the real ~/.aws).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/environment.h"

namespace ddb2s3::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/relative, without touching the disk.
  std::string file(std::string_view relative) const;
  // Writes text to path()/relative (making its directories) and returns that path.
  std::string write(std::string_view relative, std::string_view text) const;

 private:
  std::string path_;
};

// A TempDir with ~/.aws (and ~/.aws/sso/cache) to stand in for HOME.
class TempHome : public TempDir {
 public:
  TempHome();
  // HOME set to this directory and IMDS off, plus the given variables.
  Environment env(std::map<std::string, std::string> vars = {}) const;
};

// The whole file (empty when it cannot be read).
std::string read_file(const std::string& path);
// Replaces the file with bytes; false when it cannot be written.
bool write_file(const std::string& path, std::string_view bytes);
// Every regular file under root, as paths relative to it, sorted: so a test can say "nothing else is there".
std::vector<std::string> files_under(const std::string& root);

// MD5 of data, as S3 ETags (hex) and Content-MD5 / manifest md5Checksum (base64) give it.
// n bytes of deterministic noise (incompressible), the same for the same seed.
std::string random_bytes(size_t n, uint64_t seed);

std::string md5_hex_of(std::string_view data);
std::string md5_base64_of(std::string_view data);

}  // namespace ddb2s3::testing

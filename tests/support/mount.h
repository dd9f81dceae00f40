// A small file system of the test's own, to make a local destination full (ENOSPC) or read-only (EROFS)
// for real: root ignores permission bits, so a chmod'ed directory would not fail.
#pragma once

#include <cstddef>
#include <string>

#include "support/files.h"

namespace ddb2s3::testing {

// A tmpfs of `bytes` (rounded up to whole pages by the kernel) mounted on a fresh directory, read-only when
// asked; unmounted (lazily) and removed on destruction. Mounting needs root (CAP_SYS_ADMIN), as the tests
// and CI run; error() says why it failed otherwise, and path() is empty.
class ScratchMount {
 public:
  ScratchMount(size_t bytes, bool read_only);
  ~ScratchMount();
  ScratchMount(const ScratchMount&) = delete;
  ScratchMount& operator=(const ScratchMount&) = delete;

  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  TempDir dir_;
  std::string path_, error_;
};

}  // namespace ddb2s3::testing

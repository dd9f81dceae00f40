#include "support/mount.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ddb2s3::testing {

ScratchMount::ScratchMount(size_t bytes, bool read_only) {
  if (dir_.path().empty()) {
    error_ = "no temporary directory";
    return;
  }
  const std::string target = dir_.file("mnt");
  if (::mkdir(target.c_str(), 0755) != 0) {
    error_ = "mkdir " + target + ": " + std::strerror(errno);
    return;
  }
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
  const unsigned long flags = MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
  if (::mount("ddb2s3-test", target.c_str(), "tmpfs", flags, options.c_str()) != 0) {
    error_ = "mount -t tmpfs -o " + options + (read_only ? ",ro " : " ") + target + ": " +
             std::strerror(errno) + " (the test needs root, as CI runs it)";
    return;
  }
  path_ = target;
}

ScratchMount::~ScratchMount() {
  if (!path_.empty()) ::umount2(path_.c_str(), MNT_DETACH);
}

}  // namespace ddb2s3::testing

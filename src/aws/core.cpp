#include <pwd.h>
#include <unistd.h>

#include "aws/environment.h"

namespace ddb2s3 {

Environment Environment::process() { return Environment{}; }

std::optional<std::string> Environment::get(const std::string& name) const {
  if (auto it = vars_.find(name); it != vars_.end()) {
    if (it->second.empty()) return std::nullopt;
    return it->second;
  }
  if (fake_) return std::nullopt;
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string Environment::home() const {
  if (auto h = get("HOME")) return *h;
  if (fake_) return {};
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return {};
}

}  // namespace ddb2s3

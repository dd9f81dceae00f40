#include <pwd.h>
#include <unistd.h>

#include "aws/environment.h"
#include "aws/result.h"

namespace ddb2s3 {

std::string Error::to_string() const {
  std::string out;
  if (!operation.empty()) {
    out += operation;
    if (!resource.empty()) out += " on " + resource;
    out += " failed: ";
  } else if (!resource.empty()) {
    out += resource + ": ";
  }
  if (!code.empty()) out += code;
  if (!message.empty()) out += (code.empty() ? "" : ": ") + message;
  if (http_status != 0 || !request_id.empty()) {
    out += " (";
    if (http_status != 0) out += "HTTP " + std::to_string(http_status);
    if (!request_id.empty()) out += std::string(http_status != 0 ? ", " : "") + "request id " + request_id;
    out += ")";
  }
  if (!hint.empty()) out += ". " + hint;
  return out;
}

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

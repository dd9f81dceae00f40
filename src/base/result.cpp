#include "base/result.h"

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

}  // namespace ddb2s3

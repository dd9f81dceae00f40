#include "sink/sink.h"

namespace ddb2s3 {

Result<Destination> Destination::parse(std::string_view text) {
  Destination d;
  if (text.empty()) return Error::usage("the destination is empty: give s3://BUCKET/PREFIX or a local directory");
  if (text.substr(0, 5) == "s3://" || text.substr(0, 5) == "S3://") {
    std::string_view rest = text.substr(5);
    auto slash = rest.find('/');
    d.is_s3 = true;
    d.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
      std::string_view prefix = rest.substr(slash + 1);
      while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
      d.prefix = std::string(prefix);
    }
    if (d.bucket.empty())
      return Error::usage("'" + std::string(text) + "' names no bucket: give s3://BUCKET/PREFIX");
    if (d.bucket.size() < 3 || d.bucket.size() > 63 || d.bucket.find_first_of(" /\\?#") != std::string::npos)
      return Error::usage("'" + d.bucket + "' is not a valid S3 bucket name (3 to 63 characters, no '/', '?' or spaces)");
    if (d.prefix.find("//") != std::string::npos)
      return Error::usage("the S3 prefix '" + d.prefix + "' contains '//'; give it without empty path segments");
    return d;
  }
  if (text.find("://") != std::string_view::npos)
    return Error::usage("'" + std::string(text) + "': only s3:// URLs and local directories are supported destinations");
  d.directory = std::string(text);
  while (d.directory.size() > 1 && d.directory.back() == '/') d.directory.pop_back();
  return d;
}

std::string Destination::key(std::string_view relative) const {
  if (!is_s3 || prefix.empty()) return std::string(relative);
  std::string k = prefix;
  k += '/';
  k += relative;
  return k;
}

std::string Destination::describe(std::string_view key) const {
  if (is_s3) return "s3://" + bucket + "/" + std::string(key);
  return directory + "/" + std::string(key);
}

}  // namespace ddb2s3

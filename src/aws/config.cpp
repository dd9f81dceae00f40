#include "aws/config.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "base/strings.h"
#include "base/url.h"

namespace ddb2s3 {
namespace {

bool is_true(std::string_view v) { return to_lower(trim(v)) == "true"; }

enum class FileKind { kConfig, kCredentials };

Error parse_error(const std::string& path, int line_no, std::string_view what) {
  Error e =
      Error::make(ErrorKind::kUsage, "ConfigParseError",
                  "cannot parse " + path + " line " + std::to_string(line_no) + ": " + std::string(what));
  e.hint = "fix or remove that line (INI format: [section], key = value, # comment)";
  return e;
}

// Where a section of a file goes; nullptr for sections the AWS CLI ignores.
ConfigSection* section_for(SharedConfig& out, FileKind kind, std::string_view header) {
  std::string_view name = trim(header);
  if (kind == FileKind::kCredentials) return &out.credentials_profiles[std::string(name)];
  if (name == "default") return &out.config_profiles["default"];
  auto prefixed = [&](std::string_view prefix) -> std::optional<std::string> {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
    if (!std::isspace(static_cast<unsigned char>(name[prefix.size()]))) return std::nullopt;
    std::string_view rest = trim(name.substr(prefix.size()));
    if (rest.empty()) return std::nullopt;
    return std::string(rest);
  };
  if (auto p = prefixed("profile")) return &out.config_profiles[*p];
  if (auto p = prefixed("sso-session")) return &out.sso_sessions[*p];
  if (auto p = prefixed("services")) return &out.services[*p];
  return nullptr;
}

Status parse_file(std::string_view text, FileKind kind, const std::string& path, SharedConfig& out) {
  ConfigSection* section = nullptr;
  bool in_section = false;   // false before the first header
  std::string current_key;   // key of the last property, for continuation lines
  bool nested_mode = false;  // current_key had an empty value: indented lines are sub-properties
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    bool indented = std::isspace(static_cast<unsigned char>(line.front()));
    if (indented && !current_key.empty()) {
      if (section == nullptr) continue;  // inside an ignored section
      if (nested_mode) {
        size_t eq = t.find('=');
        if (eq == std::string_view::npos)
          return parse_error(path, line_no, "expected 'key = value' in a sub-section");
        section->nested[current_key][std::string(trim(t.substr(0, eq)))] =
            std::string(trim(t.substr(eq + 1)));
      } else {
        section->values[current_key] += "\n" + std::string(t);
      }
      continue;
    }
    if (t.front() == '[') {
      // A comment may follow the header: "[profile x] # note".
      size_t close = t.find(']');
      if (close == std::string_view::npos) return parse_error(path, line_no, "section header without ']'");
      std::string_view after = trim(t.substr(close + 1));
      if (!after.empty() && after.front() != '#' && after.front() != ';')
        return parse_error(path, line_no, "unexpected text after section header");
      section = section_for(out, kind, t.substr(1, close - 1));
      in_section = true;
      current_key.clear();
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string_view::npos)
      return parse_error(path, line_no, "expected '[section]' or 'key = value'");
    if (!in_section) return parse_error(path, line_no, "property before any [section]");
    std::string key(trim(t.substr(0, eq)));
    if (key.empty()) return parse_error(path, line_no, "empty key");
    std::string value(trim(t.substr(eq + 1)));
    current_key = key;
    nested_mode = value.empty();
    if (section != nullptr) section->values[key] = std::move(value);
  }
  return {};
}

Result<std::optional<std::string>> read_optional_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error::io("cannot read " + path);
  return std::optional<std::string>(ss.str());
}


// A boolean setting: the environment variable when set, else the profile key.
bool flag(const Environment& env, const std::string& env_name, const SharedConfig& config,
          std::string_view profile, std::string_view key) {
  if (auto v = env.get(env_name)) return is_true(*v);
  return config.get_bool(profile, key);
}

// Which of the two files a profile's key is read from (the credentials file wins, as in get()).
std::string setting_file(const SharedConfig& config, const std::string& profile, std::string_view key) {
  if (auto it = config.credentials_profiles.find(profile); it != config.credentials_profiles.end())
    if (it->second.get(key)) return config.credentials_path;
  return config.config_path;
}

// scheme http or https, a host, and nothing that cannot go on the wire as is (white space, control or
// non-ASCII bytes); the URL becomes the host of every request and is signed.
// from_option: `from` is the caller's option (Error::field), not a setting or a variable.
Result<std::string> check_url(std::string url, std::string_view from, bool from_option = false) {
  std::string out(trim(url));
  auto bad = [&](std::string_view what) -> Error {
    Error e = Error::usage("endpoint URL '" + escape_controls(out) + "' from " + std::string(from) + " " +
                           std::string(what));
    e.hint = "an endpoint URL looks like https://dynamodb.us-east-1.amazonaws.com or http://localhost:8000";
    if (from_option) e.field = std::string(from);
    return e;
  };
  if (out.rfind("http://", 0) != 0 && out.rfind("https://", 0) != 0)
    return bad("must start with http:// or https://");
  for (char ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return bad("holds white space, a control character or a non-ASCII byte");
  }
  const UrlParts parts = split_url(out);
  if (parts.host.empty()) return bad("has no host name");
  if (out.find_first_of("?#") != std::string::npos) return bad("must not have a query or a fragment");
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string default_host(std::string_view service, std::string_view region, bool fips, bool dualstack) {
  std::string r(region);
  std::string suffix = "amazonaws.com";
  std::string dual_suffix = "api.aws";
  if (r.rfind("cn-", 0) == 0) {
    suffix = "amazonaws.com.cn";
    dual_suffix = "api.amazonwebservices.com.cn";
  } else if (r.rfind("us-isob-", 0) == 0) {
    suffix = dual_suffix = "sc2s.sgov.gov";
  } else if (r.rfind("us-iso-", 0) == 0) {
    suffix = dual_suffix = "c2s.ic.gov";
  }
  if (service == "sso") return "portal.sso." + r + "." + suffix;
  std::string name(service);
  if (fips) name += "-fips";
  if (service == "s3")
    return dualstack ? name + ".dualstack." + r + "." + suffix : name + "." + r + "." + suffix;
  return name + "." + r + "." + (dualstack ? dual_suffix : suffix);
}

// A bucket name usable as one host name label under TLS.
bool virtual_hostable(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-'))
      return false;
  return bucket.front() != '-' && bucket.back() != '-';
}

}  // namespace

std::optional<std::string> ConfigSection::get(std::string_view key) const {
  auto it = values.find(std::string(key));
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ConfigSection::get_nested(std::string_view section, std::string_view key) const {
  auto it = nested.find(std::string(section));
  if (it == nested.end()) return std::nullopt;
  auto kv = it->second.find(std::string(key));
  if (kv == it->second.end() || kv->second.empty()) return std::nullopt;
  return kv->second;
}

bool SharedConfig::has_profile(std::string_view profile) const {
  std::string p(profile);
  return config_profiles.count(p) != 0 || credentials_profiles.count(p) != 0;
}

std::optional<std::string> SharedConfig::get(std::string_view profile, std::string_view key) const {
  std::string p(profile);
  if (auto it = credentials_profiles.find(p); it != credentials_profiles.end())
    if (auto v = it->second.get(key)) return v;
  if (auto it = config_profiles.find(p); it != config_profiles.end()) return it->second.get(key);
  return std::nullopt;
}

std::optional<std::string> SharedConfig::get_nested(std::string_view profile, std::string_view section,
                                                    std::string_view key) const {
  std::string p(profile);
  if (auto it = credentials_profiles.find(p); it != credentials_profiles.end())
    if (auto v = it->second.get_nested(section, key)) return v;
  if (auto it = config_profiles.find(p); it != config_profiles.end())
    return it->second.get_nested(section, key);
  return std::nullopt;
}

bool SharedConfig::get_bool(std::string_view profile, std::string_view key) const {
  auto v = get(profile, key);
  return v && is_true(*v);
}

Result<SharedConfig> parse_shared_config(std::string_view config_text, std::string_view credentials_text,
                                         std::string config_path, std::string credentials_path) {
  SharedConfig out;
  out.config_path = std::move(config_path);
  out.credentials_path = std::move(credentials_path);
  DDB2S3_RETURN_IF_ERROR(parse_file(config_text, FileKind::kConfig, out.config_path, out));
  DDB2S3_RETURN_IF_ERROR(parse_file(credentials_text, FileKind::kCredentials, out.credentials_path, out));
  return out;
}

Result<SharedConfig> load_shared_config(const Environment& env) {
  std::string home = env.home();
  // The AWS CLI expands a leading ~ in these variables.
  auto expand = [&](std::string p) { return p.rfind("~/", 0) == 0 ? home + p.substr(1) : p; };
  std::string config_path = expand(env.get_or("AWS_CONFIG_FILE", home + "/.aws/config"));
  std::string credentials_path =
      expand(env.get_or("AWS_SHARED_CREDENTIALS_FILE", home + "/.aws/credentials"));
  DDB2S3_ASSIGN_OR_RETURN(auto config_text, read_optional_file(config_path));
  DDB2S3_ASSIGN_OR_RETURN(auto credentials_text, read_optional_file(credentials_path));
  auto parsed = parse_shared_config(config_text.value_or(""), credentials_text.value_or(""), config_path,
                                    credentials_path);
  if (!parsed) return parsed;
  parsed->config_found = config_text.has_value();
  parsed->credentials_found = credentials_text.has_value();
  return parsed;
}

std::string profile_name(const AwsOptions& options, const Environment& env) {
  if (!options.profile.empty()) return options.profile;
  return env.get_or("AWS_PROFILE", "default");
}

Status check_profile_exists(const AwsOptions& options, const Environment& env, const SharedConfig& config) {
  std::string name = profile_name(options, env);
  if (name == "default" || config.has_profile(name)) return {};
  Error e = Error::make(
      ErrorKind::kUsage, "ProfileNotFound",
      "the profile '" + name + "' is in neither " + config.config_path + " nor " + config.credentials_path);
  e.resource = "profile " + name;
  e.hint = options.profile.empty() ? "check AWS_PROFILE" : "check the profile's name";
  return e;
}

Result<std::string> resolve_region(const AwsOptions& options, const Environment& env,
                                   const SharedConfig& config,
                                   const std::function<std::optional<std::string>()>& imds_region) {
  std::string region;
  std::string from;
  std::string profile = profile_name(options, env);
  if (!options.region.empty()) {
    region = options.region, from = options.option_name("region");
  } else if (auto r = env.get("AWS_REGION")) {
    region = *r, from = "AWS_REGION";
  } else if (auto r2 = env.get("AWS_DEFAULT_REGION")) {
    region = *r2, from = "AWS_DEFAULT_REGION";
  } else if (auto r3 = config.get(profile, "region")) {
    region = *r3, from = "profile " + profile;
  } else if (imds_region) {
    if (auto r4 = imds_region()) region = *r4, from = "EC2 instance metadata";
  }
  region = std::string(trim(region));
  if (!region.empty() && !is_region_name(region)) {
    Error e = Error::usage("invalid region '" + escape_controls(region) + "' from " + from +
                           ": a region name has only lower-case letters, digits and hyphens");
    e.hint = "a region looks like us-east-1";
    if (!options.region.empty()) e.field = from;
    return e;
  }
  return region;
}

Result<Endpoint> resolve_endpoint(std::string_view service, std::string_view region,
                                  const AwsOptions& options, const Environment& env,
                                  const SharedConfig& config) {
  std::string profile = profile_name(options, env);
  std::string service_key = to_lower(service);
  std::string env_suffix;
  for (char c : service)
    env_suffix += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  bool s3 = service_key == "s3";
  auto addressing = config.get_nested(profile, "s3", "addressing_style");
  auto finish_custom = [&](std::string url, std::string_view from, bool from_option = false) -> Result<Endpoint> {
    DDB2S3_ASSIGN_OR_RETURN(auto checked, check_url(std::move(url), from, from_option));
    Endpoint e{std::move(checked), true, false};
    // Custom S3 endpoints (MinIO, s3rver, LocalStack) usually cannot resolve BUCKET.host.
    e.s3_path_style = s3 && !(addressing && to_lower(*addressing) == "virtual");
    return e;
  };

  if (!options.endpoint_url.empty())
    return finish_custom(options.endpoint_url, options.option_name("endpoint_url"), true);
  bool ignore =
      flag(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", config, profile, "ignore_configured_endpoint_urls");
  if (!ignore) {
    std::string specific = "AWS_ENDPOINT_URL_" + env_suffix;
    if (auto v = env.get(specific)) return finish_custom(*v, specific);
    if (auto v = env.get("AWS_ENDPOINT_URL")) return finish_custom(*v, "AWS_ENDPOINT_URL");
    if (auto services_name = config.get(profile, "services")) {
      if (auto it = config.services.find(*services_name); it != config.services.end()) {
        std::string key = service_key;
        for (char& c : key)
          if (c == ' ') c = '_';
        if (auto v = it->second.get_nested(key, "endpoint_url"))
          return finish_custom(*v, "[services " + *services_name + "] in " + config.config_path);
      }
    }
    if (auto v = config.get(profile, "endpoint_url")) return finish_custom(*v, "profile " + profile + " in " + setting_file(config, profile, "endpoint_url"));
  }

  if (region.empty()) {
    Error e = Error::usage("no region for " + std::string(service) + " (profile '" + profile + "')");
    e.code = "NoRegion";
    e.hint = "set the region, AWS_REGION or region in ~/.aws/config";
    return e;
  }
  if (!is_region_name(region)) return Error::usage("invalid region '" + std::string(region) + "'");
  bool fips = flag(env, "AWS_USE_FIPS_ENDPOINT", config, profile, "use_fips_endpoint");
  bool dualstack = flag(env, "AWS_USE_DUALSTACK_ENDPOINT", config, profile, "use_dualstack_endpoint");
  Endpoint e;
  e.url = "https://" + default_host(service_key, region, fips, dualstack);
  e.custom = false;
  e.s3_path_style = s3 && addressing && to_lower(*addressing) == "path";
  return e;
}

std::string s3_bucket_url(const Endpoint& endpoint, std::string_view bucket, bool force_path_style) {
  if (force_path_style || endpoint.s3_path_style || !virtual_hostable(bucket))
    return endpoint.url + "/" + std::string(bucket);
  size_t scheme_end = endpoint.url.find("://");
  if (scheme_end == std::string::npos) return endpoint.url + "/" + std::string(bucket);
  return endpoint.url.substr(0, scheme_end + 3) + std::string(bucket) + "." +
         endpoint.url.substr(scheme_end + 3);
}

}  // namespace ddb2s3

// Credential sources that are not STS: credential_process, container endpoint, EC2 instance metadata, SSO.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "aws/client.h"
#include "aws/credentials_internal.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/strings.h"
#include "base/time.h"
#include "base/unique_fd.h"
#include "base/url.h"

extern char** environ;

namespace ddb2s3::credentials_internal {
namespace {

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&a_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&a_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &a_; }

 private:
  posix_spawn_file_actions_t a_;
};

struct ProcessOutput {
  int exit_status = -1;  // exit code, or -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs `/bin/sh -c command` with the process's environment, collecting stdout and stderr.
Result<ProcessOutput> run_shell(const std::string& command) {
  int out_fds[2];
  int err_fds[2];
  if (pipe2(out_fds, O_CLOEXEC) != 0) return Error::io(std::string("pipe: ") + std::strerror(errno));
  UniqueFd out_r(out_fds[0]), out_w(out_fds[1]);
  if (pipe2(err_fds, O_CLOEXEC) != 0) return Error::io(std::string("pipe: ") + std::strerror(errno));
  UniqueFd err_r(err_fds[0]), err_w(err_fds[1]);
  SpawnActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), out_w.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(actions.get(), err_w.get(), STDERR_FILENO);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  std::array<char*, 4> argv{sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", actions.get(), nullptr, argv.data(), environ);
  if (rc != 0) return Error::io(std::string("cannot start /bin/sh: ") + std::strerror(rc));
  out_w.reset();
  err_w.reset();
  ProcessOutput result;
  std::array<pollfd, 2> fds{pollfd{out_r.get(), POLLIN, 0}, pollfd{err_r.get(), POLLIN, 0}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open = 2;
  char buf[4096];
  while (open > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // closed by the child (poll ignores negative fds)
        --open;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Result<Credentials> credentials_from(const std::map<std::string, std::string>& f, std::string_view id_key,
                                     std::string_view secret_key, std::string_view token_key,
                                     std::string_view expiration_key, std::string source) {
  auto get = [&](std::string_view k) -> std::string {
    auto it = f.find(std::string(k));
    return it == f.end() ? std::string() : it->second;
  };
  Credentials c;
  c.access_key_id = get(id_key);
  c.secret_access_key = get(secret_key);
  c.session_token = get(token_key);
  c.source = std::move(source);
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return Error::internal("the " + c.source + " answer has no " + std::string(id_key) + "/" +
                           std::string(secret_key));
  if (std::string e = get(expiration_key); !e.empty()) {
    auto t = parse_expiration(e);
    if (!t)
      return Error::internal("the " + c.source + " answer has an unreadable " + std::string(expiration_key) +
                             " '" + e + "': " + t.error().message);
    c.expiration = *t;
  }
  if (auto problem = credentials_problem(c)) return Error::internal("the " + c.source + " answer: " + *problem);
  return c;
}

Error http_error(std::string code, const HttpResponse& response, std::string message) {
  ErrorKind kind = response.status >= 500 ? ErrorKind::kTransient : ErrorKind::kClient;
  Error e = Error::make(kind, std::move(code), std::move(message));
  e.http_status = static_cast<int>(response.status);
  return e;
}

HttpOptions metadata_http(const ChainOptions& chain, std::chrono::milliseconds timeout) {
  HttpOptions o = chain.http;
  o.connect_timeout = timeout;
  o.read_timeout = timeout;
  return o;
}

// The host of scheme://host[:port]/..., brackets kept for IPv6; empty without a scheme.
std::string url_host(std::string_view url) {
  const UrlParts parts = split_url(url);
  return parts.scheme.empty() ? std::string() : std::string(parts.host);
}

// IMDSv2 session token; empty when the service only speaks IMDSv1 (404/405 to the PUT).
Result<std::string> imds_token(HttpClient& http, const std::string& endpoint) {
  HttpRequest req;
  req.method = "PUT";
  req.url = endpoint + "/latest/api/token";
  req.set_header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
  HttpResponse resp;
  DDB2S3_RETURN_IF_ERROR(http.perform(req, resp));
  if (resp.status == 200) return resp.body;
  if (resp.status == 404 || resp.status == 405) return std::string();
  return http_error("ImdsError", resp, "the token request answered HTTP " + std::to_string(resp.status));
}

Result<std::string> imds_get(HttpClient& http, const std::string& endpoint, const std::string& path,
                             const std::string& token) {
  HttpRequest req;
  req.url = endpoint + path;
  if (!token.empty()) req.set_header("x-aws-ec2-metadata-token", token);
  HttpResponse resp;
  DDB2S3_RETURN_IF_ERROR(http.perform(req, resp));
  if (resp.status == 404 && path == "/latest/meta-data/iam/security-credentials/")
    return http_error("ImdsError", resp, "no IAM role is attached to this instance");
  if (resp.status != 200)
    return http_error("ImdsError", resp, "GET " + path + " answered HTTP " + std::to_string(resp.status));
  return resp.body;
}

}  // namespace

std::optional<std::string> credentials_problem(const Credentials& c) {
  for (char ch : c.access_key_id) {
    const auto b = static_cast<unsigned char>(ch);
    if (b <= 0x20 || b >= 0x7f || ch == ',' || ch == '/')
      return std::string("the access key id holds white space, a control character, ',' or '/'");
  }
  if (!is_header_value(c.session_token)) return std::string("the session token holds a CR, LF or another control character");
  return std::nullopt;
}

Fetch process_fetch(std::string command, std::string profile) {
  return [command = std::move(command), profile = std::move(profile)]() -> Result<Credentials> {
    auto run = run_shell(command);
    if (!run) return std::move(run).error().with_context("credential_process", "profile " + profile);
    if (run->exit_status != 0) {
      std::string err(trim(run->err));
      if (err.size() > 2000) err.resize(2000);
      Error e = Error::make(ErrorKind::kClient, "CredentialProcessFailed",
                            "credential_process of profile '" + profile + "' exited with status " +
                                std::to_string(run->exit_status) + (err.empty() ? "" : ": " + err));
      e.resource = "profile " + profile;
      return e;
    }
    auto fields = json_fields(run->out);
    if (!fields || fields->count("Version") == 0 || fields->at("Version") != "1") {
      Error e = Error::make(
          ErrorKind::kClient, "CredentialProcessFailed",
          "credential_process of profile '" + profile + "' did not print a JSON object with \"Version\": 1");
      e.resource = "profile " + profile;
      return e;
    }
    return credentials_from(*fields, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration",
                            "process");
  };
}

Result<Fetch> container_fetch(const Environment& env, const ChainOptions& chain) {
  std::string url;
  if (auto relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    std::string base = chain.container_endpoint.empty() ? "http://169.254.170.2" : chain.container_endpoint;
    url = base + (relative->front() == '/' ? "" : "/") + *relative;
  } else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    // Plain HTTP only to the container agents and loopback, as the AWS SDKs allow.
    std::string host = url_host(url);
    bool https = url.rfind("https://", 0) == 0;
    bool allowed = https || host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" ||
                   host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
    if (url.rfind("http://", 0) != 0 && !https)
      return Error::usage("AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http:// or https:// URL");
    if (!allowed)
      return Error::usage(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain HTTP is allowed only to loopback or the "
          "ECS/EKS agents, not '" +
          host + "'");
  } else {
    return Error::internal("container credentials asked without AWS_CONTAINER_CREDENTIALS_*_URI");
  }
  if (!is_wire_url(url) || url_host(url).empty())
    return Error::usage(std::string(env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                                        ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                                        : "AWS_CONTAINER_CREDENTIALS_FULL_URI") +
                        " makes the URL '" + escape_controls(url) +
                        "', which has no host or holds white space or a control character");
  std::string token_file = env.get_or("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "");
  std::string token = env.get_or("AWS_CONTAINER_AUTHORIZATION_TOKEN", "");
  HttpOptions http = metadata_http(chain, chain.container_timeout);
  return Fetch([url, token_file, token, http]() -> Result<Credentials> {
    HttpRequest req;
    req.url = url;
    std::string auth = token;
    if (!token_file.empty()) {  // the file wins: EKS Pod Identity rotates it
      bool ok = false;
      auth = std::string(trim(read_text_file(token_file, &ok)));
      if (!ok) return Error::io("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + token_file);
    }
    if (!is_header_value(auth))
      return Error::usage(std::string(token_file.empty() ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                                                         : "the AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE token") +
                          " holds a CR, LF or another control character");
    if (!auth.empty()) req.set_header("Authorization", auth);
    HttpClient client(http);
    HttpResponse resp;
    if (auto s = client.perform(req, resp); !s)
      return std::move(s).error().with_context("container credentials", url);
    if (resp.status != 200)
      return http_error(
          "ContainerCredentialsError", resp,
          "the container credentials endpoint " + url + " answered HTTP " + std::to_string(resp.status));
    auto fields = json_fields(resp.body);
    if (!fields) return std::move(fields).error().with_context("container credentials", url);
    return credentials_from(*fields, "AccessKeyId", "SecretAccessKey", "Token", "Expiration", "container");
  });
}

bool imds_disabled(const Environment& env, const ChainOptions& chain) {
  if (chain.disable_imds) return true;
  auto v = env.get("AWS_EC2_METADATA_DISABLED");
  if (!v) return false;
  return iequals(*v, "true");
}

std::string imds_endpoint(std::string_view profile, const Environment& env, const SharedConfig& config,
                          const ChainOptions& chain) {
  std::string e = chain.imds_endpoint;
  if (e.empty()) e = env.get_or("AWS_EC2_METADATA_SERVICE_ENDPOINT", "");
  if (e.empty()) e = config.get(profile, "ec2_metadata_service_endpoint").value_or("");
  if (e.empty()) {
    std::string mode = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
                           .value_or(config.get(profile, "ec2_metadata_service_endpoint_mode").value_or(""));
    e = (mode == "IPv6" || mode == "ipv6") ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
  }
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

Fetch imds_fetch(std::string endpoint, const ChainOptions& chain) {
  HttpOptions http = metadata_http(chain, chain.imds_timeout);
  return [endpoint = std::move(endpoint), http]() -> Result<Credentials> {
    HttpClient client(http);
    auto token = imds_token(client, endpoint);
    if (!token) return std::move(token).error().with_context("EC2 instance metadata", endpoint);
    const std::string base = "/latest/meta-data/iam/security-credentials/";
    auto roles = imds_get(client, endpoint, base, *token);
    if (!roles) return std::move(roles).error().with_context("EC2 instance metadata", endpoint);
    std::string role(trim(std::string_view(*roles).substr(0, roles->find('\n'))));
    if (role.empty())
      return Error::make(ErrorKind::kClient, "ImdsError", "no IAM role is attached to this instance");
    auto body = imds_get(client, endpoint, base + uri_encode(role, false), *token);
    if (!body) return std::move(body).error().with_context("EC2 instance metadata", endpoint);
    auto fields = json_fields(*body);
    if (!fields) return std::move(fields).error().with_context("EC2 instance metadata", endpoint);
    if (auto code = fields->find("Code"); code != fields->end() && code->second != "Success")
      return Error::make(ErrorKind::kClient, "ImdsError", "instance role credentials: " + code->second);
    return credentials_from(*fields, "AccessKeyId", "SecretAccessKey", "Token", "Expiration", "imds");
  };
}

Result<Fetch> sso_fetch(const std::string& profile, const Environment& env, const SharedConfig& config,
                        const ChainOptions& chain) {
  std::optional<std::string> start_url, region, cache_key;
  if (auto session = config.get(profile, "sso_session")) {
    auto it = config.sso_sessions.find(*session);
    if (it == config.sso_sessions.end()) {
      Error e =
          Error::usage("profile '" + profile + "' names sso_session '" + *session +
                       "', which has no [sso-session " + *session + "] section in " + config.config_path);
      e.resource = "profile " + profile;
      return e;
    }
    start_url = it->second.get("sso_start_url");
    region = it->second.get("sso_region");
    cache_key = *session;
  } else {
    start_url = config.get(profile, "sso_start_url");
    region = config.get(profile, "sso_region");
    cache_key = start_url;
  }
  auto account = config.get(profile, "sso_account_id");
  auto role = config.get(profile, "sso_role_name");
  std::string missing;
  for (auto [name, value] : {std::pair{"sso_start_url", &start_url}, std::pair{"sso_region", &region},
                             std::pair{"sso_account_id", &account}, std::pair{"sso_role_name", &role}})
    if (!*value) missing += std::string(missing.empty() ? "" : ", ") + name;
  if (!missing.empty()) {
    Error e = Error::usage("SSO profile '" + profile + "' lacks " + missing);
    e.resource = "profile " + profile;
    return e;
  }
  if (!is_region_name(*region)) {
    Error e = Error::usage("sso_region '" + escape_controls(*region, 64) + "' of profile '" + profile +
                           "' in " + config.config_path + " is not a region name");
    e.resource = "profile " + profile;
    return e;
  }
  std::string endpoint = chain.sso_endpoint;
  if (endpoint.empty()) {
    DDB2S3_ASSIGN_OR_RETURN(auto resolved,
                            resolve_endpoint("sso", *region, AwsOptions{profile, *region, ""}, env, config));
    endpoint = resolved.url;
  }
  std::string cache_file = env.home() + "/.aws/sso/cache/" + sha1_hex(*cache_key) + ".json";
  std::string url = endpoint + "/federation/credentials?account_id=" + uri_encode(*account, false) +
                    "&role_name=" + uri_encode(*role, false);
  std::string login_hint = "run `aws sso login --profile " + profile + "`";
  ChainOptions copy = chain;
  return Fetch([cache_file, url, login_hint, profile, copy]() -> Result<Credentials> {
    auto login_error = [&](std::string code, std::string message) {
      Error e = Error::make(ErrorKind::kClient, std::move(code), std::move(message));
      e.resource = "profile " + profile;
      e.hint = login_hint;
      return e;
    };
    bool ok = false;
    std::string text = read_text_file(cache_file, &ok);
    if (!ok) return login_error("SsoTokenMissing", "no SSO token cached in " + cache_file);
    auto fields = json_fields(text);
    if (!fields || !fields->count("accessToken") || !fields->count("expiresAt"))
      return login_error("SsoTokenInvalid", "the SSO token cache " + cache_file + " is unreadable");
    auto expires = parse_expiration(fields->at("expiresAt"));
    if (!expires || *expires <= now(copy))
      return login_error("SsoTokenExpired", "the SSO token in " + cache_file + " has expired");
    if (!is_header_value(fields->at("accessToken")))
      return login_error("SsoTokenInvalid", "the SSO token in " + cache_file + " holds a control character");
    HttpRequest req;
    req.url = url;
    req.set_header("x-amz-sso_bearer_token", fields->at("accessToken"));
    HttpClient client(copy.http);
    HttpResponse resp;
    if (auto s = client.perform(req, resp); !s)
      return std::move(s).error().with_context("GetRoleCredentials", url);
    if (resp.status == 401 || resp.status == 403)
      return login_error("SsoTokenExpired", "the SSO portal refused the cached token (HTTP " +
                                                std::to_string(resp.status) + ")");
    if (resp.status != 200) {
      CallInfo info{"GetRoleCredentials", "profile " + profile, {}};
      return error_from_response(resp, info);
    }
    auto role_fields = json_fields(resp.body, "roleCredentials");
    if (!role_fields)
      return std::move(role_fields).error().with_context("GetRoleCredentials", "profile " + profile);
    auto c = credentials_from(*role_fields, "accessKeyId", "secretAccessKey", "sessionToken", "", "sso");
    if (!c) return c;
    if (auto it = role_fields->find("expiration"); it != role_fields->end()) {
      long long ms = 0;
      auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), ms);
      if (ec != std::errc() || end != it->second.data() + it->second.size())
        return Error::internal("the SSO portal answered an unreadable expiration");
      // Clamped: milliseconds past 2262 overflow the clock's nanosecond ticks.
      const std::chrono::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds(ms)};
      const auto whole = std::chrono::floor<std::chrono::seconds>(t);
      c->expiration = to_system_clock(whole, t - whole);
    }
    return c;
  });
}

std::optional<std::string> imds_region_impl(const std::string& endpoint, const ChainOptions& chain) {
  HttpClient client(metadata_http(chain, chain.imds_timeout));
  auto token = imds_token(client, endpoint);
  if (!token) return std::nullopt;
  auto region = imds_get(client, endpoint, "/latest/meta-data/placement/region", *token);
  if (!region) return std::nullopt;
  std::string r(trim(*region));
  if (r.empty()) return std::nullopt;
  return r;
}

}  // namespace ddb2s3::credentials_internal

namespace ddb2s3 {

std::optional<std::string> imds_region(const AwsOptions& options, const Environment& env,
                                       const SharedConfig& config, const ChainOptions& chain) {
  if (credentials_internal::imds_disabled(env, chain)) return std::nullopt;
  return credentials_internal::imds_region_impl(
      credentials_internal::imds_endpoint(profile_name(options, env), env, config, chain), chain);
}

}  // namespace ddb2s3

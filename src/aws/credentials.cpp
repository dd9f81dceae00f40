// The credentials chain: which source a configuration selects (no network), and the caching provider.
#include "aws/credentials.h"

#include <simdjson.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "aws/credentials_internal.h"
#include "base/time.h"

namespace ddb2s3 {
namespace credentials_internal {

TimePoint now(const ChainOptions& chain) {
  return chain.now ? chain.now() : std::chrono::system_clock::now();
}

namespace {

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> credentials() override { return c_; }

 private:
  Credentials c_;
};

class RefreshingProvider final : public CredentialsProvider {
 public:
  RefreshingProvider(Fetch fetch, std::function<TimePoint()> clock, std::chrono::seconds early)
      : fetch_(std::move(fetch)), clock_(std::move(clock)), early_(early) {}

  // The lock is held across the fetch on purpose: concurrent callers wait for one refresh.
  Result<Credentials> credentials() override {
    std::lock_guard lock(mu_);
    TimePoint t = clock_();
    // t + early_, not expiration - early_: an expiration clamped to the time_point's minimum must not wrap.
    if (cached_ && (!cached_->expiration || t + early_ < *cached_->expiration)) return *cached_;
    auto fresh = fetch_();
    if (!fresh) {
      // A failed early refresh keeps using credentials that are still valid.
      if (cached_ && cached_->expiration && t < *cached_->expiration) return *cached_;
      return std::move(fresh).error();
    }
    cached_ = std::move(fresh).value();
    return *cached_;
  }

 private:
  std::mutex mu_;
  Fetch fetch_;
  std::function<TimePoint()> clock_;
  std::chrono::seconds early_;
  std::optional<Credentials> cached_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> refreshing(Fetch fetch, const ChainOptions& chain) {
  auto clock = chain.now ? chain.now : [] { return std::chrono::system_clock::now(); };
  return std::make_shared<RefreshingProvider>(std::move(fetch), std::move(clock),
                                              chain.refresh_before_expiry);
}

Result<TimePoint> parse_expiration(std::string_view text) {
  DDB2S3_ASSIGN_OR_RETURN(const Iso8601Time t, parse_iso8601(text, /*utc_when_no_zone=*/true));
  return to_system_clock(t.seconds, t.fraction);
}

Result<std::map<std::string, std::string>> json_fields(std::string_view json, std::string_view member) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return Error::internal("the answer is not JSON");
  simdjson::dom::object object;
  if (!member.empty()) {
    if (root[member].get_object().get(object) != simdjson::SUCCESS)
      return Error::internal("the JSON answer has no object '" + std::string(member) + "'");
  } else if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Error::internal("the JSON answer is not an object");
  }
  std::map<std::string, std::string> out;
  for (auto field : object) {
    std::string key(field.key);
    switch (field.value.type()) {
      case simdjson::dom::element_type::STRING:
        out[key] = std::string(std::string_view(field.value.get_string().value_unsafe()));
        break;
      case simdjson::dom::element_type::INT64:
        out[key] = std::to_string(field.value.get_int64().value_unsafe());
        break;
      case simdjson::dom::element_type::UINT64:
        out[key] = std::to_string(field.value.get_uint64().value_unsafe());
        break;
      case simdjson::dom::element_type::DOUBLE: {
        std::ostringstream os;
        os.precision(17);
        os << field.value.get_double().value_unsafe();
        out[key] = os.str();
        break;
      }
      default:
        break;
    }
  }
  return out;
}

std::string read_text_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *ok = false;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *ok = !in.bad();
  return ss.str();
}

std::string default_session_name(const ChainOptions& chain) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now(chain).time_since_epoch()).count();
  return "ddb2s3-" + std::to_string(ms);
}

}  // namespace credentials_internal

Status check_explicit_keys(const AwsOptions& o) {
  const bool id = !o.access_key_id.empty(), secret = !o.secret_access_key.empty();
  if (!id && !secret && o.session_token.empty()) return {};
  if (!id || !secret) {
    const std::string missing = o.option_name(id ? "secret_access_key" : "access_key_id");
    const std::string given = o.option_name(id       ? "access_key_id"
                                            : secret ? "secret_access_key"
                                                     : "session_token");
    return Error::usage(missing + " must be given with " + given).with_field(missing);
  }
  Credentials c{o.access_key_id, o.secret_access_key, o.session_token, std::nullopt, "explicit keys"};
  if (auto problem = credentials_internal::credentials_problem(c)) {
    const std::string at_fault =
        o.option_name(is_header_value(c.session_token) ? "access_key_id" : "session_token");
    return Error::usage(*problem + " (" + at_fault + ")").with_field(at_fault);
  }
  return {};
}

std::shared_ptr<CredentialsProvider> static_credentials(Credentials c) {
  return std::make_shared<credentials_internal::StaticProvider>(std::move(c));
}

namespace {

using credentials_internal::Fetch;
using ProviderResult = Result<std::shared_ptr<CredentialsProvider>>;

Error config_error(std::string code, std::string message, const std::string& profile) {
  Error e = Error::make(ErrorKind::kUsage, std::move(code), std::move(message));
  e.resource = "profile " + profile;
  return e;
}

// Builds the provider a configuration selects; remembers where it looked for the NoCredentials message.
class ChainBuilder {
 public:
  ChainBuilder(const AwsOptions& options, const Environment& env, const SharedConfig& config,
               const ChainOptions& chain)
      : options_(options), env_(env), config_(config), chain_(chain) {}

  ProviderResult build() {
    if (auto keys = from_options(); !keys || keys.value()) return keys;
    DDB2S3_RETURN_IF_ERROR(check_profile_exists(options_, env_, config_));
    std::string profile = profile_name(options_, env_);
    if (options_.profile.empty()) {
      auto keys = from_env_keys();
      if (!keys || keys.value()) return keys;
      looked_.push_back("environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set)");
    } else {
      looked_.push_back(
          "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not used: profile given)");
    }

    std::vector<std::string> visiting;
    auto from_profile = this->from_profile(profile, visiting);
    if (!from_profile || from_profile.value()) return from_profile;
    looked_.push_back("profile '" + profile + "' in " + config_.credentials_path +
                      (config_.credentials_found ? "" : " (no such file)") + " and " + config_.config_path +
                      (config_.config_found ? "" : " (no such file)") +
                      (config_.has_profile(profile) ? " (no credentials in it)" : " (no such profile)"));

    auto token_file = env_.get("AWS_WEB_IDENTITY_TOKEN_FILE");
    auto role_arn = env_.get("AWS_ROLE_ARN");
    if (token_file && role_arn) {
      DDB2S3_ASSIGN_OR_RETURN(auto sts,
                              credentials_internal::sts_target(profile, options_, env_, config_, chain_));
      credentials_internal::AssumeRoleParams p{
          sts, *role_arn,
          env_.get("AWS_ROLE_SESSION_NAME").value_or(credentials_internal::default_session_name(chain_)), "",
          ""};
      return credentials_internal::refreshing(
          credentials_internal::web_identity_fetch(p, *token_file, chain_), chain_);
    }
    looked_.push_back("web identity AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (not set)");

    if (env_.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
        env_.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      DDB2S3_ASSIGN_OR_RETURN(auto fetch, credentials_internal::container_fetch(env_, chain_));
      return credentials_internal::refreshing(std::move(fetch), chain_);
    }
    looked_.push_back(
        "container credentials AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI "
        "(not set)");

    if (credentials_internal::imds_disabled(env_, chain_)) {
      looked_.push_back("EC2 instance metadata (disabled)");
      return no_credentials(profile, looked_);
    }
    std::string endpoint = credentials_internal::imds_endpoint(profile, env_, config_, chain_);
    // The last resort: when IMDS has nothing (not on EC2, no role), the answer is NoCredentials.
    Fetch imds = [inner = credentials_internal::imds_fetch(endpoint, chain_), looked = looked_, endpoint,
                  profile]() -> Result<Credentials> {
      auto r = inner();
      if (r) return r;
      auto places = looked;
      places.push_back("EC2 instance metadata at " + endpoint + " (" + r.error().message + ")");
      return no_credentials(profile, places);
    };
    return credentials_internal::refreshing(std::move(imds), chain_);
  }

 private:
  static Error no_credentials(const std::string& profile, const std::vector<std::string>& places) {
    std::string message = "no AWS credentials found. Looked in: ";
    for (size_t i = 0; i < places.size(); ++i) message += (i ? "; " : "") + places[i];
    Error e = Error::make(ErrorKind::kClient, "NoCredentials", std::move(message));
    e.resource = "profile " + profile;
    e.hint =
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or set the profile or "
        "AWS_PROFILE";
    return e;
  }

  // The keys given in the options; nullptr when none is.
  ProviderResult from_options() {
    const AwsOptions& o = options_;
    if (o.access_key_id.empty() && o.secret_access_key.empty() && o.session_token.empty())
      return std::shared_ptr<CredentialsProvider>();
    DDB2S3_RETURN_IF_ERROR(check_explicit_keys(o));
    Credentials c;
    c.access_key_id = o.access_key_id;
    c.secret_access_key = o.secret_access_key;
    c.session_token = o.session_token;
    c.source = "explicit keys";
    return static_credentials(std::move(c));
  }

  // nullptr when AWS_ACCESS_KEY_ID is not set.
  ProviderResult from_env_keys() {
    auto id = env_.get("AWS_ACCESS_KEY_ID");
    auto secret = env_.get("AWS_SECRET_ACCESS_KEY");
    if (!id && !secret) return std::shared_ptr<CredentialsProvider>();
    if (!id || !secret)
      return Error::usage(std::string(id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set but " +
                          (id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not");
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = env_.get("AWS_SESSION_TOKEN").value_or(env_.get_or("AWS_SECURITY_TOKEN", ""));
    c.source = "environment";
    if (auto problem = credentials_internal::credentials_problem(c))
      return Error::usage(*problem + " (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN)");
    return static_credentials(std::move(c));
  }

  // Keys of one file's section; nullptr when the section has none.
  ProviderResult keys_in(const std::map<std::string, ConfigSection>& sections, const std::string& profile,
                         const std::string& path) {
    auto it = sections.find(profile);
    if (it == sections.end()) return std::shared_ptr<CredentialsProvider>();
    auto id = it->second.get("aws_access_key_id");
    auto secret = it->second.get("aws_secret_access_key");
    if (!id && !secret) return std::shared_ptr<CredentialsProvider>();
    if (!id || !secret)
      return config_error("PartialCredentials",
                          "profile '" + profile + "' in " + path + " has only one of aws_access_key_id and " +
                              "aws_secret_access_key",
                          profile);
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = it->second.get("aws_session_token").value_or("");
    c.source = "profile " + profile;
    if (auto problem = credentials_internal::credentials_problem(c))
      return config_error("InvalidCredentials", *problem + " (profile '" + profile + "' in " + path + ")", profile);
    return static_credentials(std::move(c));
  }

  // The provider a profile configures, or nullptr when it configures none. visiting: role chain so far.
  ProviderResult from_profile(const std::string& profile, std::vector<std::string>& visiting) {
    if (!config_.has_profile(profile)) return std::shared_ptr<CredentialsProvider>();
    if (config_.get(profile, "role_arn")) return assume_role(profile, visiting);
    if (config_.get(profile, "sso_session") || config_.get(profile, "sso_start_url") ||
        config_.get(profile, "sso_account_id")) {
      DDB2S3_ASSIGN_OR_RETURN(auto fetch, credentials_internal::sso_fetch(profile, env_, config_, chain_));
      return credentials_internal::refreshing(std::move(fetch), chain_);
    }
    auto keys = keys_in(config_.credentials_profiles, profile, config_.credentials_path);
    if (!keys || keys.value()) return keys;
    if (auto command = config_.get(profile, "credential_process"))
      return credentials_internal::refreshing(credentials_internal::process_fetch(*command, profile), chain_);
    return keys_in(config_.config_profiles, profile, config_.config_path);
  }

  ProviderResult assume_role(const std::string& profile, std::vector<std::string>& visiting) {
    std::string role_arn = *config_.get(profile, "role_arn");
    if (config_.get(profile, "mfa_serial"))
      return config_error(
          "Unsupported",
          "profile '" + profile + "' asks for MFA (mfa_serial), which ddb2s3 cannot prompt for", profile);
    auto source_profile = config_.get(profile, "source_profile");
    auto credential_source = config_.get(profile, "credential_source");
    auto token_file = config_.get(profile, "web_identity_token_file");
    if (source_profile && credential_source)
      return config_error("InvalidConfig",
                          "profile '" + profile + "' sets both source_profile and credential_source",
                          profile);

    DDB2S3_ASSIGN_OR_RETURN(auto sts,
                            credentials_internal::sts_target(profile, options_, env_, config_, chain_));
    credentials_internal::AssumeRoleParams params{
        sts, role_arn,
        config_.get(profile, "role_session_name")
            .value_or(credentials_internal::default_session_name(chain_)),
        config_.get(profile, "external_id").value_or(""),
        config_.get(profile, "duration_seconds").value_or("")};

    std::shared_ptr<CredentialsProvider> source;
    if (source_profile) {
      if (*source_profile == profile) {
        // A profile may assume a role with its own keys.
        auto own = keys_in(config_.credentials_profiles, profile, config_.credentials_path);
        if (own && !own.value()) own = keys_in(config_.config_profiles, profile, config_.config_path);
        if (!own) return own;
        if (!own.value()) return cycle_error(visiting, profile, profile);
        source = std::move(own).value();
      } else {
        for (const auto& v : visiting)
          if (v == *source_profile) return cycle_error(visiting, profile, *source_profile);
        if (!config_.has_profile(*source_profile))
          return config_error(
              "ProfileNotFound",
              "source_profile '" + *source_profile + "' of profile '" + profile + "' does not exist",
              profile);
        visiting.push_back(profile);
        auto from = from_profile(*source_profile, visiting);
        visiting.pop_back();
        if (!from) return from;
        if (!from.value())
          return config_error(
              "NoCredentials",
              "source_profile '" + *source_profile + "' of profile '" + profile + "' has no credentials",
              profile);
        source = std::move(from).value();
      }
    } else if (credential_source) {
      if (*credential_source == "Environment") {
        auto keys = from_env_keys();
        if (!keys) return keys;
        if (!keys.value())
          return config_error("NoCredentials",
                              "profile '" + profile +
                                  "' has credential_source = Environment but AWS_ACCESS_KEY_ID is not set",
                              profile);
        source = std::move(keys).value();
      } else if (*credential_source == "Ec2InstanceMetadata") {
        source = credentials_internal::refreshing(
            credentials_internal::imds_fetch(
                credentials_internal::imds_endpoint(profile, env_, config_, chain_), chain_),
            chain_);
      } else if (*credential_source == "EcsContainer") {
        DDB2S3_ASSIGN_OR_RETURN(auto fetch, credentials_internal::container_fetch(env_, chain_));
        source = credentials_internal::refreshing(std::move(fetch), chain_);
      } else {
        return config_error("InvalidConfig",
                            "profile '" + profile + "': credential_source must be Environment, " +
                                "Ec2InstanceMetadata or EcsContainer, not '" + *credential_source + "'",
                            profile);
      }
    } else if (token_file) {
      return credentials_internal::refreshing(
          credentials_internal::web_identity_fetch(params, *token_file, chain_), chain_);
    } else {
      return config_error("InvalidConfig",
                          "profile '" + profile +
                              "' has role_arn but no source_profile, credential_source or " +
                              "web_identity_token_file",
                          profile);
    }
    return credentials_internal::refreshing(credentials_internal::assume_role_fetch(params, source, chain_),
                                            chain_);
  }

  static Error cycle_error(const std::vector<std::string>& visiting, const std::string& profile,
                           const std::string& next) {
    std::string path;
    for (const auto& v : visiting) path += v + " -> ";
    path += profile + " -> " + next;
    return config_error("CredentialsCycle", "role chaining loops: " + path, profile);
  }

  const AwsOptions& options_;
  const Environment& env_;
  const SharedConfig& config_;
  const ChainOptions& chain_;
  std::vector<std::string> looked_;
};

}  // namespace

Result<std::shared_ptr<CredentialsProvider>> make_credentials_chain(const AwsOptions& options,
                                                                    const Environment& env,
                                                                    const SharedConfig& config,
                                                                    const ChainOptions& chain) {
  return ChainBuilder(options, env, config, chain).build();
}

}  // namespace ddb2s3

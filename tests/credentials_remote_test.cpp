// Sources that call a service: STS, SSO portal, container endpoint, IMDSv2, each stood in for by a loopback
// server; plus caching, refresh before expiry and concurrent callers.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/credentials.h"
#include "support/files.h"
#include "support/http_server.h"

namespace ddb2s3 {
namespace {

using std::chrono::system_clock;
using testing::TestHttpServer;

using testing::TempHome;

Result<std::shared_ptr<CredentialsProvider>> chain_for(const Environment& env, const AwsOptions& options = {},
                                                       const ChainOptions& chain = {}) {
  auto config = load_shared_config(env);
  if (!config) return std::move(config).error();
  return make_credentials_chain(options, env, *config, chain);
}

Result<Credentials> resolve(const Environment& env, const AwsOptions& options = {},
                            const ChainOptions& chain = {}) {
  auto p = chain_for(env, options, chain);
  if (!p) return std::move(p).error();
  return (*p)->credentials();
}

std::string sts_xml(const std::string& result, const std::string& key_id, const std::string& expiration) {
  return "<" + result + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + result +
         "Result><Credentials><AccessKeyId>" + key_id + "</AccessKeyId><SecretAccessKey>secret-of-" + key_id +
         "</SecretAccessKey><SessionToken>token-of-" + key_id + "</SessionToken><Expiration>" + expiration +
         "</Expiration></Credentials></" + result + "Result></" + result + "Response>";
}

// The key id of an Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// ...".
std::string signing_key_id(const std::string& authorization) {
  size_t start = authorization.find("Credential=");
  if (start == std::string::npos) return {};
  start += 11;
  return authorization.substr(start, authorization.find('/', start) - start);
}

std::string sha1_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  char hex[3];
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

// A fake STS that records every call and answers AssumeRole with AKIA<n> for the n-th call.
struct FakeSts {
  TestHttpServer server;
  std::mutex mu;
  std::vector<httplib::Request> calls;
  int fail_status = 0;

  FakeSts() {
    server.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      calls.push_back(req);
      if (fail_status != 0) {
        res.status = fail_status;
        res.set_content(
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed to assume"
            "</Message></Error><RequestId>req-1</RequestId></ErrorResponse>",
            "text/xml");
        return;
      }
      bool web = req.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos;
      res.set_content(sts_xml(web ? "AssumeRoleWithWebIdentity" : "AssumeRole",
                              "AKIASTS" + std::to_string(calls.size()), "2099-01-01T00:00:00Z"),
                      "text/xml");
    });
    server.start();
  }
};

TEST(CredentialsAssumeRole, SignsWithSourceProfileAndChainsRoles) {
  TempHome home;
  FakeSts sts;
  home.write(".aws/credentials",
             "[src]\naws_access_key_id = AKIASOURCE\naws_secret_access_key = srcsecret\n");
  home.write(".aws/config",
             "[profile first]\nrole_arn = arn:aws:iam::123456789012:role/first\nsource_profile = src\n"
             "external_id = ext-42\nrole_session_name = nightly\nduration_seconds = 900\nregion = eu-west-1\n"
             "[profile second]\nrole_arn = arn:aws:iam::210987654321:role/second\nsource_profile = first\n");
  auto env = home.env({{"AWS_ENDPOINT_URL_STS", sts.server.url()}});

  auto first = resolve(env, {.profile = "first"});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->access_key_id, "AKIASTS1");
  EXPECT_EQ(first->secret_access_key, "secret-of-AKIASTS1");
  EXPECT_EQ(first->session_token, "token-of-AKIASTS1");
  EXPECT_EQ(first->source, "assume-role arn:aws:iam::123456789012:role/first");
  ASSERT_TRUE(first->expiration.has_value());
  ASSERT_EQ(sts.calls.size(), 1u);
  const auto& call = sts.calls[0];
  EXPECT_NE(call.body.find("Action=AssumeRole&"), std::string::npos) << call.body;
  EXPECT_NE(call.body.find("Version=2011-06-15"), std::string::npos);
  EXPECT_NE(call.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffirst"), std::string::npos);
  EXPECT_NE(call.body.find("RoleSessionName=nightly"), std::string::npos);
  EXPECT_NE(call.body.find("ExternalId=ext-42"), std::string::npos);
  EXPECT_NE(call.body.find("DurationSeconds=900"), std::string::npos);
  std::string auth = call.get_header_value("Authorization");
  EXPECT_EQ(signing_key_id(auth), "AKIASOURCE");
  EXPECT_NE(auth.find("/eu-west-1/sts/aws4_request"), std::string::npos) << auth;

  // second's source is first: two AssumeRole calls, the second signed with the first's temporary key.
  auto second = resolve(env, {.profile = "second"});
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  ASSERT_EQ(sts.calls.size(), 3u);
  EXPECT_EQ(signing_key_id(sts.calls[1].get_header_value("Authorization")), "AKIASOURCE");
  EXPECT_EQ(signing_key_id(sts.calls[2].get_header_value("Authorization")), "AKIASTS2");
  EXPECT_EQ(sts.calls[2].get_header_value("X-Amz-Security-Token"), "token-of-AKIASTS2");
  EXPECT_NE(sts.calls[2].body.find("role%2Fsecond"), std::string::npos);
  EXPECT_EQ(second->access_key_id, "AKIASTS3");
}

TEST(CredentialsAssumeRole, CredentialSourceEnvironment) {
  TempHome home;
  FakeSts sts;
  home.write(".aws/config",
             "[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n");
  auto r = resolve(home.env({{"AWS_ACCESS_KEY_ID", "AKIAENVSRC"}, {"AWS_SECRET_ACCESS_KEY", "s"}}),
                   {.profile = "r"}, {.sts_endpoint = sts.server.url()});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_EQ(signing_key_id(sts.calls[0].get_header_value("Authorization")), "AKIAENVSRC");
}

TEST(CredentialsAssumeRole, StsRefusalIsAClientError) {
  TempHome home;
  FakeSts sts;
  sts.fail_status = 403;
  home.write(".aws/config",
             "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = r\n"
             "aws_access_key_id = AKIASELF\naws_secret_access_key = s\n");
  auto r = resolve(home.env({{"AWS_ENDPOINT_URL_STS", sts.server.url()}}), {.profile = "r"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kClient);
  EXPECT_EQ(r.error().code, "AccessDenied");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(sts.calls.size(), 1u);  // a client error is not retried
  EXPECT_EQ(signing_key_id(sts.calls[0].get_header_value("Authorization")), "AKIASELF");
}

TEST(CredentialsWebIdentity, FromEnvironmentUnsigned) {
  TempHome home;
  FakeSts sts;
  std::string token = home.write("token", "eyJ.web.identity\n");
  auto env = home.env({{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"},
                       {"AWS_ROLE_SESSION_NAME", "pod-session"},
                       {"AWS_ENDPOINT_URL_STS", sts.server.url()}});
  auto r = resolve(env);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->source, "web-identity");
  EXPECT_EQ(r->access_key_id, "AKIASTS1");
  ASSERT_EQ(sts.calls.size(), 1u);
  const auto& body = sts.calls[0].body;
  EXPECT_NE(body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos) << body;
  EXPECT_TRUE(body.ends_with("&WebIdentityToken=eyJ.web.identity")) << body;  // file's newline dropped
  EXPECT_NE(body.find("RoleSessionName=pod-session"), std::string::npos);
  EXPECT_FALSE(sts.calls[0].has_header("Authorization"));
}

TEST(CredentialsWebIdentity, FromProfile) {
  TempHome home;
  FakeSts sts;
  std::string token = home.write("token", "tok");
  home.write(".aws/config",
             "[default]\nrole_arn = arn:aws:iam::1:role/w\nweb_identity_token_file = " + token + "\n");
  auto r = resolve(home.env(), {}, {.sts_endpoint = sts.server.url()});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->source, "web-identity");
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_NE(sts.calls[0].body.find("role%2Fw"), std::string::npos);
}

// A fake SSO portal: roleCredentials for a valid bearer token.
struct FakeSso {
  TestHttpServer server;
  std::atomic<int> hits{0};
  std::string account, role;

  FakeSso() {
    server.server().Get(
        "/federation/credentials", [this](const httplib::Request& req, httplib::Response& res) {
          ++hits;
          account = req.get_param_value("account_id");
          role = req.get_param_value("role_name");
          if (req.get_header_value("x-amz-sso_bearer_token") != "sso-access-token") {
            res.status = 401;
            res.set_content(R"({"message":"Session token not found or invalid"})", "application/json");
            return;
          }
          res.set_content(R"({"roleCredentials":{"accessKeyId":"AKIASSO","secretAccessKey":"ssosecret",)"
                          R"("sessionToken":"ssotoken","expiration":4071006245000}})",
                          "application/json");
        });
    server.start();
  }
};

TEST(CredentialsSso, SessionWithValidCachedToken) {
  TempHome home;
  FakeSso sso;
  home.write(".aws/config",
             "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
             "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
  home.write(".aws/sso/cache/" + sha1_hex("corp") + ".json",
             R"({"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z"})");
  auto r = resolve(home.env(), {.profile = "dev"}, {.sso_endpoint = sso.server.url()});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIASSO");
  EXPECT_EQ(r->session_token, "ssotoken");
  EXPECT_EQ(r->source, "sso");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(system_clock::to_time_t(*r->expiration), 4071006245);
  EXPECT_EQ(sso.account, "111122223333");
  EXPECT_EQ(sso.role, "ReadOnly");
}

TEST(CredentialsSso, LegacyProfileCacheKeyedByStartUrl) {
  TempHome home;
  FakeSso sso;
  home.write(".aws/config",
             "[default]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n"
             "sso_account_id = 444455556666\nsso_role_name = Admin\n");
  home.write(".aws/sso/cache/" + sha1_hex("https://legacy.awsapps.com/start") + ".json",
             R"({"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00UTC"})");
  auto r = resolve(home.env(), {}, {.sso_endpoint = sso.server.url()});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIASSO");
  EXPECT_EQ(sso.account, "444455556666");
}

TEST(CredentialsSso, ExpiredTokenTellsTheUserToLogIn) {
  TempHome home;
  FakeSso sso;
  home.write(".aws/config",
             "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
             "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
  home.write(".aws/sso/cache/" + sha1_hex("corp") + ".json",
             R"({"accessToken":"sso-access-token","expiresAt":"2020-01-01T00:00:00Z"})");
  auto r = resolve(home.env(), {.profile = "dev"}, {.sso_endpoint = sso.server.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "SsoTokenExpired");
  EXPECT_NE(r.error().hint.find("aws sso login --profile dev"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(sso.hits, 0);
}

TEST(CredentialsSso, RefusedTokenTellsTheUserToLogIn) {
  TempHome home;
  FakeSso sso;
  home.write(".aws/config",
             "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
             "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
  home.write(".aws/sso/cache/" + sha1_hex("corp") + ".json",
             R"({"accessToken":"revoked","expiresAt":"2099-01-01T00:00:00Z"})");
  auto r = resolve(home.env(), {.profile = "dev"}, {.sso_endpoint = sso.server.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(sso.hits, 1);
  EXPECT_NE(r.error().hint.find("aws sso login --profile dev"), std::string::npos);
}

// A fake container credentials endpoint that wants a given Authorization token.
struct FakeContainer {
  TestHttpServer server;
  std::atomic<int> hits{0};
  std::string token = "container-token";
  std::string expiration = "2030-01-01T00:00:00Z";
  std::atomic<int> status{200};

  FakeContainer() {
    server.server().Get("/v2/credentials/abc", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits;
      if (req.get_header_value("Authorization") != token) {
        res.status = 401;
        return;
      }
      if (status != 200) {
        res.status = status;
        return;
      }
      res.set_content(R"({"AccessKeyId":"AKIACONTAINER","SecretAccessKey":"csecret","Token":"ctoken",)"
                      R"("Expiration":")" +
                          expiration + "\"}",
                      "application/json");
    });
    server.start();
  }
  std::string full_uri() const { return server.url() + "/v2/credentials/abc"; }
};

TEST(CredentialsContainer, FullUriWithTokenFile) {
  TempHome home;
  FakeContainer container;
  std::string token_file = home.write("eks-token", "container-token\n");
  auto r = resolve(home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri()},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-is-set"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIACONTAINER");
  EXPECT_EQ(r->session_token, "ctoken");
  EXPECT_EQ(r->source, "container");
}

TEST(CredentialsContainer, RelativeUriWithTokenVariable) {
  TempHome home;
  FakeContainer container;
  auto env = home.env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}});
  auto r = resolve(env, {}, {.container_endpoint = container.server.url()});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIACONTAINER");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
  auto refused = resolve(env, {}, {.container_endpoint = container.server.url()});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http_status, 401);
}

TEST(CredentialsContainer, PlainHttpOnlyToLoopbackOrAgents) {
  TempHome home;
  auto r = chain_for(home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
}

TEST(CredentialsChain, PrecedenceAcrossSources) {
  TempHome home;
  FakeContainer container;
  FakeSts sts;
  std::string token = home.write("token", "tok");
  home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n");
  std::map<std::string, std::string> vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri()},
                                          {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}};
  EXPECT_EQ(resolve(home.env(vars))->source, "container");
  vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = token;
  vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/pod";
  vars["AWS_ENDPOINT_URL_STS"] = sts.server.url();
  EXPECT_EQ(resolve(home.env(vars))->source, "web-identity");
  vars["AWS_PROFILE"] = "dev";
  EXPECT_EQ(resolve(home.env(vars))->source, "profile dev");
  vars["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars["AWS_SECRET_ACCESS_KEY"] = "s";
  EXPECT_EQ(resolve(home.env(vars))->source, "environment");
  EXPECT_EQ(resolve(home.env(vars), {.profile = "dev"})->source, "profile dev");
}

// A fake IMDSv2: every GET needs the session token from PUT /latest/api/token.
struct FakeImds {
  TestHttpServer server;
  std::atomic<int> hits{0};
  std::atomic<int> unauthorized{0};
  bool has_role = true;

  FakeImds() {
    auto& s = server.server();
    s.Put("/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits;
      if (req.get_header_value("x-aws-ec2-metadata-token-ttl-seconds").empty()) {
        res.status = 400;
        return;
      }
      res.set_content("imds-session-token", "text/plain");
    });
    auto guarded = [this](std::function<void(const httplib::Request&, httplib::Response&)> f) {
      return [this, f](const httplib::Request& req, httplib::Response& res) {
        ++hits;
        if (req.get_header_value("x-aws-ec2-metadata-token") != "imds-session-token") {
          ++unauthorized;
          res.status = 401;
          return;
        }
        f(req, res);
      };
    };
    s.Get("/latest/meta-data/iam/security-credentials/", guarded([this](const auto&, auto& res) {
            if (!has_role) {
              res.status = 404;
              return;
            }
            res.set_content("ec2-role\n", "text/plain");
          }));
    s.Get("/latest/meta-data/iam/security-credentials/ec2-role", guarded([](const auto&, auto& res) {
            res.set_content(
                R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"AKIAIMDS",)"
                R"("SecretAccessKey":"isecret","Token":"itoken","Expiration":"2099-01-01T00:00:00Z"})",
                "application/json");
          }));
    s.Get("/latest/meta-data/placement/region",
          guarded([](const auto&, auto& res) { res.set_content("eu-west-3", "text/plain"); }));
    server.start();
  }
};

TEST(CredentialsImds, V2TokenThenRoleCredentials) {
  TempHome home;
  FakeImds imds;
  auto env =
      Environment::from({{"HOME", home.path()}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.url()}});
  auto r = resolve(env);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIAIMDS");
  EXPECT_EQ(r->session_token, "itoken");
  EXPECT_EQ(r->source, "imds");
  EXPECT_EQ(imds.hits, 3);
  EXPECT_EQ(imds.unauthorized, 0);
}

TEST(CredentialsImds, RegionForResolveRegion) {
  TempHome home;
  FakeImds imds;
  auto env = Environment::from({{"HOME", home.path()}});
  ChainOptions chain{.imds_endpoint = imds.server.url()};
  auto region =
      resolve_region({}, env, SharedConfig{}, [&] { return imds_region({}, env, SharedConfig{}, chain); });
  ASSERT_TRUE(region.ok());
  EXPECT_EQ(*region, "eu-west-3");
  EXPECT_EQ(imds.unauthorized, 0);
  int before = imds.hits;
  auto disabled = Environment::from({{"HOME", home.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  EXPECT_EQ(imds_region({}, disabled, SharedConfig{}, chain), std::nullopt);
  EXPECT_EQ(imds.hits, before);
}

TEST(CredentialsImds, NoRoleMeansNoCredentials) {
  TempHome home;
  FakeImds imds;
  imds.has_role = false;
  auto env = Environment::from({{"HOME", home.path()}});
  auto r = resolve(env, {}, {.imds_endpoint = imds.server.url()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoCredentials");
  EXPECT_NE(r.error().message.find("EC2 instance metadata at " + imds.server.url()), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("no IAM role"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(CredentialsImds, UnreachableFailsFastAsNoCredentials) {
  TempHome home;
  int port = 0;
  {
    TestHttpServer closed;  // a port that was free a moment ago: connection refused
    closed.start();
    port = closed.port();
  }
  auto env = Environment::from({{"HOME", home.path()}});
  auto start = std::chrono::steady_clock::now();
  auto r = resolve(env, {}, {.imds_endpoint = "http://127.0.0.1:" + std::to_string(port)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoCredentials");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

system_clock::time_point at(const std::string& iso) {
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return system_clock::from_time_t(timegm(&tm));
}

TEST(CredentialsRefresh, FetchesAgainOnlyWithinFiveMinutesOfExpiry) {
  TempHome home;
  FakeContainer container;  // Expiration 2030-01-01T00:00:00Z
  std::atomic<system_clock::time_point> now{at("2029-12-31T12:00:00")};
  ChainOptions chain{.now = [&] { return now.load(); }};
  auto p = chain_for(home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri()},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}}),
                     {}, chain);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(container.hits, 0);  // lazy: nothing fetched before the first use
  ASSERT_TRUE((*p)->credentials().ok());
  ASSERT_TRUE((*p)->credentials().ok());
  EXPECT_EQ(container.hits, 1);  // far from expiry: cached
  now = at("2029-12-31T23:56:00");
  ASSERT_TRUE((*p)->credentials().ok());
  EXPECT_EQ(container.hits, 2);  // within 5 minutes: fetched again
  now = at("2029-12-31T23:58:00");
  ASSERT_TRUE((*p)->credentials().ok());
  EXPECT_EQ(container.hits, 3);
}

TEST(CredentialsRefresh, FailedEarlyRefreshKeepsValidCredentials) {
  TempHome home;
  FakeContainer container;
  std::atomic<system_clock::time_point> now{at("2029-12-31T23:57:00")};
  ChainOptions chain{.now = [&] { return now.load(); }};
  auto p = chain_for(home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri()},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}}),
                     {}, chain);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->credentials().ok());
  container.status = 500;
  auto still = (*p)->credentials();
  ASSERT_TRUE(still.ok());  // the refresh failed, but the cached keys are valid for 3 more minutes
  EXPECT_EQ(still->access_key_id, "AKIACONTAINER");
  EXPECT_EQ(container.hits, 2);
  now = at("2030-01-01T00:00:01");
  EXPECT_FALSE((*p)->credentials().ok());  // expired and not renewable: an error
}

TEST(CredentialsRefresh, ConcurrentCallersShareOneFetch) {
  TempHome home;
  FakeContainer container;
  auto p = chain_for(home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri()},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}}));
  ASSERT_TRUE(p.ok());
  constexpr int kThreads = 8;
  std::latch go(kThreads);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      go.arrive_and_wait();
      if (auto c = (*p)->credentials(); c.ok() && c->access_key_id == "AKIACONTAINER") ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, kThreads);
  EXPECT_EQ(container.hits, 1);
}

}  // namespace
}  // namespace ddb2s3

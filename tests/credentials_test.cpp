// The chain's choice of source, without network: environment, profiles, credential_process, config errors.
#include "aws/credentials.h"

#include <gtest/gtest.h>

#include "support/files.h"

namespace ddb2s3 {
namespace {

using testing::TempHome;

SharedConfig load(const Environment& env) {
  auto c = load_shared_config(env);
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return c.ok() ? std::move(c).value() : SharedConfig{};
}

Result<Credentials> resolve(const TempHome& home, const Environment& env, const AwsOptions& options = {}) {
  (void)home;
  SharedConfig config = load(env);
  auto chain = make_credentials_chain(options, env, config);
  if (!chain) return std::move(chain).error();
  return (*chain)->credentials();
}

TEST(StaticCredentials, ReturnsTheGivenKeys) {
  Credentials c{"AKIASTATIC", "secret", "token", std::nullopt, "test"};
  auto p = static_credentials(c);
  auto r = p->credentials();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "AKIASTATIC");
  EXPECT_EQ(r->session_token, "token");
  EXPECT_EQ(r->source, "test");
}

TEST(CredentialsChain, EnvironmentWinsOverDefaultProfile) {
  TempHome home;
  home.write(".aws/credentials", "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n");
  auto r = resolve(home, home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                   {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                   {"AWS_SESSION_TOKEN", "envtoken"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIAENV");
  EXPECT_EQ(r->secret_access_key, "envsecret");
  EXPECT_EQ(r->session_token, "envtoken");
  EXPECT_EQ(r->source, "environment");
}

TEST(CredentialsChain, ExplicitProfileWinsOverEnvironment) {
  TempHome home;
  home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n");
  auto env = home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  auto r = resolve(home, env, {.profile = "dev"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIADEV");
  EXPECT_EQ(r->source, "profile dev");
  // AWS_PROFILE is not explicit: the environment keys still win.
  env.set("AWS_PROFILE", "dev");
  auto e = resolve(home, env);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->access_key_id, "AKIAENV");
}

TEST(CredentialsChain, AwsProfileSelectsTheProfile) {
  TempHome home;
  home.write(".aws/credentials",
             "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s\n"
             "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\naws_session_token = devtoken\n");
  auto r = resolve(home, home.env({{"AWS_PROFILE", "dev"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIADEV");
  EXPECT_EQ(r->session_token, "devtoken");
  auto d = resolve(home, home.env());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->source, "profile default");
}

TEST(CredentialsChain, ConfigFileNeedsProfilePrefix) {
  TempHome home;
  home.write(".aws/config",
             "[profile dev]\naws_access_key_id = AKIACONFIGDEV\naws_secret_access_key = s\n"
             "[qa]\naws_access_key_id = AKIANOTAPROFILE\naws_secret_access_key = s\n");
  auto dev = resolve(home, home.env(), {.profile = "dev"});
  ASSERT_TRUE(dev.ok()) << dev.error().to_string();
  EXPECT_EQ(dev->access_key_id, "AKIACONFIGDEV");
  auto qa = resolve(home, home.env(), {.profile = "qa"});
  ASSERT_FALSE(qa.ok());
  EXPECT_EQ(qa.error().code, "ProfileNotFound");
}

TEST(CredentialsChain, CredentialsFileWinsOverConfigFileKeys) {
  TempHome home;
  home.write(".aws/config", "[profile dev]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = s\n");
  home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIACREDS\naws_secret_access_key = s\n");
  auto r = resolve(home, home.env(), {.profile = "dev"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "AKIACREDS");
}

TEST(CredentialsChain, PartialKeysAreErrors) {
  TempHome home;
  auto env = resolve(home, home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"}}));
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().kind, ErrorKind::kUsage);
  home.write(".aws/credentials", "[default]\naws_access_key_id = AKIAONLY\n");
  auto file = resolve(home, home.env());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, "PartialCredentials");
}

TEST(CredentialsProcess, RunsTheCommandAndReadsVersion1Json) {
  TempHome home;
  std::string script =
      home.write("creds.sh",
                 "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": "
                 "\"procsecret\", \"SessionToken\": \"proctoken\", \"Expiration\": "
                 "\"2099-01-02T03:04:05Z\"}'\n");
  home.write(".aws/config", "[profile p]\ncredential_process = /bin/sh " + script + " --flag\n");
  auto r = resolve(home, home.env(), {.profile = "p"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIAPROC");
  EXPECT_EQ(r->secret_access_key, "procsecret");
  EXPECT_EQ(r->session_token, "proctoken");
  EXPECT_EQ(r->source, "process");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*r->expiration), 4071006245);  // 2099-01-02T03:04:05Z
}

// An Expiration past 2262 (the end of system_clock's nanosecond range) is "far in the future", not an
// overflow that makes the credentials look expired and runs the process again on every request.
TEST(CredentialsProcess, FarFutureExpirationIsCachedNotRunAgain) {
  TempHome home;
  const std::string runs = home.file("runs");
  std::string script = home.write("creds.sh", "echo run >> '" + runs +
                                                  "'\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
                                                  "\"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", "
                                                  "\"Expiration\": \"9999-12-31T23:59:59Z\"}'\n");
  home.write(".aws/config", "[profile p]\ncredential_process = /bin/sh " + script + "\n");
  const Environment env = home.env();
  SharedConfig config = load(env);
  auto chain = make_credentials_chain({.profile = "p"}, env, config);
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  auto first = (*chain)->credentials();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(first->expiration.has_value());
  EXPECT_EQ(*first->expiration, std::chrono::system_clock::time_point::max());  // clamped, never expired
  auto second = (*chain)->credentials();
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->access_key_id, "AKIAPROC");
  EXPECT_EQ(testing::read_file(runs), "run\n");  // the process ran once
}

TEST(CredentialsProcess, NonZeroExitIsAnErrorWithItsStderr) {
  TempHome home;
  home.write(".aws/config",
             "[default]\ncredential_process = echo 'session expired, log in again' >&2; exit 3\n");
  auto r = resolve(home, home.env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CredentialProcessFailed");
  EXPECT_NE(r.error().message.find("status 3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("session expired, log in again"), std::string::npos) << r.error().message;
}

TEST(CredentialsProcess, WrongVersionIsAnError) {
  TempHome home;
  home.write(".aws/config",
             "[default]\ncredential_process = echo '{\"Version\": 2, \"AccessKeyId\": \"A\", "
             "\"SecretAccessKey\": \"B\"}'\n");
  auto r = resolve(home, home.env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CredentialProcessFailed");
}

TEST(CredentialsProcess, KeysInCredentialsFileComeFirst) {
  TempHome home;
  home.write(".aws/config", "[default]\ncredential_process = exit 1\n");
  home.write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  auto r = resolve(home, home.env());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIAFILE");
}

TEST(CredentialsAssumeRole, RoleChainingCycleIsAnError) {
  TempHome home;
  home.write(".aws/config",
             "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
             "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
             "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n");
  auto r = resolve(home, home.env(), {.profile = "a"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CredentialsCycle");
  EXPECT_NE(r.error().message.find("a -> b -> c -> a"), std::string::npos) << r.error().message;
}

TEST(CredentialsAssumeRole, MisconfiguredRolesAreUsageErrors) {
  TempHome home;
  home.write(".aws/config",
             "[profile nosource]\nrole_arn = arn:aws:iam::1:role/x\n"
             "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = k\ncredential_source = "
             "Environment\n"
             "[profile badsource]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Somewhere\n"
             "[profile missing]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = ghost\n"
             "[profile selfnokeys]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = selfnokeys\n");
  for (std::string p : {"nosource", "both", "badsource", "missing", "selfnokeys"}) {
    auto r = resolve(home, home.env(), {.profile = p});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage) << p << ": " << r.error().to_string();
  }
}

TEST(CredentialsChain, NoCredentialsListsWhereWeLooked) {
  TempHome home;
  home.write(".aws/credentials", "[default]\naws_session_token = SECRET-TOKEN-VALUE\n");
  auto env = home.env();
  SharedConfig config = load(env);
  auto chain = make_credentials_chain({}, env, config);
  ASSERT_FALSE(chain.ok());
  const Error& e = chain.error();
  EXPECT_EQ(e.kind, ErrorKind::kClient);
  EXPECT_EQ(e.code, "NoCredentials");
  std::string text = e.to_string();
  for (std::string place :
       {std::string("AWS_ACCESS_KEY_ID"), home.path() + "/.aws/credentials",
        home.path() + "/.aws/config (no such file)", std::string("profile 'default'"),
        std::string("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string("AWS_CONTAINER_CREDENTIALS"),
        std::string("EC2 instance metadata (disabled)")})
    EXPECT_NE(text.find(place), std::string::npos) << "missing '" << place << "' in: " << text;
  EXPECT_EQ(text.find("SECRET-TOKEN-VALUE"), std::string::npos);
}

TEST(CredentialsChain, ExplicitProfileMustExist) {
  TempHome home;
  auto r = resolve(home, home.env(), {.profile = "nope"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ProfileNotFound");
}

TEST(CredentialsChain, SsoProfileWithoutAllFieldsIsUsageError) {
  TempHome home;
  home.write(".aws/config",
             "[profile s]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n");
  auto r = resolve(home, home.env(), {.profile = "s"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_NE(r.error().message.find("sso_account_id"), std::string::npos);
}

// Settings that become headers or URLs are checked where they are read, with the setting's source in the
// error and never the secret itself.
TEST(CredentialsChain, SettingsThatCannotBeSentAreUsageErrorsNamingTheirSource) {
  TempHome home;
  auto token = resolve(home, home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                       {"AWS_SECRET_ACCESS_KEY", "s"},
                                       {"AWS_SESSION_TOKEN", "tok\r\nX-Injected: SECRET"}}));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().kind, ErrorKind::kUsage);
  EXPECT_NE(token.error().message.find("AWS_SESSION_TOKEN"), std::string::npos) << token.error().message;
  EXPECT_EQ(token.error().to_string().find("SECRET"), std::string::npos);
  auto id = resolve(home, home.env({{"AWS_ACCESS_KEY_ID", "AKIA/x, y"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().kind, ErrorKind::kUsage);

  auto container = resolve(home, home.env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/a b"}}));
  ASSERT_FALSE(container.ok());
  EXPECT_EQ(container.error().kind, ErrorKind::kUsage);
  EXPECT_NE(container.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos)
      << container.error().message;

  home.write(".aws/credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = s\n"
                                 "aws_session_token = a\x01SECRET\n");
  auto file = resolve(home, home.env());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind, ErrorKind::kUsage);
  EXPECT_NE(file.error().message.find("credentials"), std::string::npos) << file.error().message;
  EXPECT_EQ(file.error().to_string().find("SECRET"), std::string::npos);

  home.write(".aws/credentials", "");
  home.write(".aws/config",
             "[profile s]\nsso_start_url = https://x.awsapps.com/start\nsso_region = ev.il/\n"
             "sso_account_id = 123456789012\nsso_role_name = r\n");
  auto sso = resolve(home, home.env(), {.profile = "s"});
  ASSERT_FALSE(sso.ok());
  EXPECT_EQ(sso.error().kind, ErrorKind::kUsage);
  EXPECT_NE(sso.error().message.find("sso_region"), std::string::npos) << sso.error().message;
}

// Keys given with a side's options (the Python module's aws_access_key_id...) win over the whole chain:
// environment keys, an explicit profile, AWS_PROFILE.
TEST(CredentialsChain, ExplicitKeysWinOverEnvironmentAndProfiles) {
  TempHome home;
  home.write(".aws/credentials", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n");
  auto env = home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                       {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                       {"AWS_SESSION_TOKEN", "envtoken"},
                       {"AWS_PROFILE", "dev"}});
  AwsOptions o{
      .profile = "dev", .name = "source", .access_key_id = "AKIAGIVEN", .secret_access_key = "given"};
  auto r = resolve(home, env, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIAGIVEN");
  EXPECT_EQ(r->secret_access_key, "given");
  EXPECT_EQ(r->session_token, "");  // not the environment's token
  EXPECT_EQ(r->source, "explicit keys");
  o.session_token = "giventoken";
  auto t = resolve(home, env, o);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->session_token, "giventoken");
  // With no key given the chain is as before.
  auto chain = resolve(home, env, {.profile = "dev", .name = "source"});
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  EXPECT_EQ(chain->access_key_id, "AKIADEV");
}

// One key without the other is a usage error naming the missing option as the side calls it, never a value.
TEST(CredentialsChain, ExplicitKeyWithoutItsPairIsAUsageErrorNamingTheOption) {
  TempHome home;
  auto env = home.env({{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  struct Case {
    AwsOptions options;
    std::string field, message;
  };
  for (const Case& c : {
           Case{{.name = "dest_aws", .access_key_id = "AKIAONLYID"},
                "dest_aws.secret_access_key",
                "dest_aws.secret_access_key must be given with dest_aws.access_key_id"},
           Case{{.name = "source", .secret_access_key = "SECRETONLY"},
                "source.access_key_id",
                "source.access_key_id must be given with source.secret_access_key"},
           Case{{.session_token = "TOKENONLY"},
                "access_key_id",
                "access_key_id must be given with session_token"},
       }) {
    auto r = resolve(home, env, c.options);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(r.error().field, c.field);
    EXPECT_EQ(r.error().message, c.message);
    for (const char* secret : {"AKIAONLYID", "SECRETONLY", "TOKENONLY"})
      EXPECT_EQ(r.error().to_string().find(secret), std::string::npos) << r.error().to_string();
  }
  // A token that cannot be sent as a header names the option, not its text.
  auto bad = resolve(home, env,
                     {.name = "source",
                      .access_key_id = "AKIA",
                      .secret_access_key = "s",
                      .session_token = "tok\r\nX-Injected: SECRET"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(bad.error().field, "source.session_token");
  EXPECT_EQ(bad.error().to_string().find("SECRET"), std::string::npos) << bad.error().to_string();
}

}  // namespace
}  // namespace ddb2s3

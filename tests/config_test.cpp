#include "aws/config.h"

#include <gtest/gtest.h>

#include "support/files.h"

namespace ddb2s3 {
namespace {

using testing::TempHome;

SharedConfig parse(std::string_view config, std::string_view credentials = "") {
  auto r = parse_shared_config(config, credentials);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? std::move(r).value() : SharedConfig{};
}

TEST(ConfigParse, ProfilesInBothFilesWithCommentsAndNestedSections) {
  SharedConfig c = parse(
      "# comment\n"
      "; another\n"
      "[default]\n"
      "region = eu-west-1\n"
      "[profile dev]   # trailing comment\n"
      "region=us-west-2\n"
      "s3 =\n"
      "  addressing_style = path\n"
      "  max_concurrent_requests = 20\n"
      "output = json\n"
      "[sso-session corp]\n"
      "sso_start_url = https://corp.awsapps.com/start\n"
      "[services local]\n"
      "dynamodb =\n"
      "  endpoint_url = http://127.0.0.1:8000\n"
      "[ignored]\n"
      "x = y\n",
      "[default]\r\n"
      "aws_access_key_id = AKIDEFAULT\r\n"
      "[dev]\n"
      "Aws_Access_Key_Id = AKIDEV\n");
  EXPECT_EQ(c.get("default", "region"), "eu-west-1");
  EXPECT_EQ(c.get("default", "aws_access_key_id"), "AKIDEFAULT");
  EXPECT_EQ(c.get("dev", "region"), "us-west-2");
  EXPECT_EQ(c.get("dev", "output"), "json");
  EXPECT_EQ(c.get_nested("dev", "s3", "addressing_style"), "path");
  EXPECT_EQ(c.get_nested("dev", "s3", "max_concurrent_requests"), "20");
  EXPECT_EQ(c.get("dev", "Aws_Access_Key_Id"), "AKIDEV");  // keys keep their case
  EXPECT_EQ(c.get("dev", "aws_access_key_id"), std::nullopt);
  EXPECT_EQ(c.sso_sessions.at("corp").get("sso_start_url"), "https://corp.awsapps.com/start");
  EXPECT_EQ(c.services.at("local").get_nested("dynamodb", "endpoint_url"), "http://127.0.0.1:8000");
  EXPECT_FALSE(c.has_profile("ignored"));
}

TEST(ConfigParse, ProfilePrefixOnlyInConfigFile) {
  // In config, "[x]" is not a profile; in credentials, "[profile x]" names a profile called "profile x".
  SharedConfig c = parse("[x]\nregion = us-east-2\n[profile y]\nregion = us-west-1\n",
                         "[profile z]\naws_access_key_id = AKIAZ\n[w]\naws_access_key_id = AKIAW\n");
  EXPECT_FALSE(c.has_profile("x"));
  EXPECT_EQ(c.get("y", "region"), "us-west-1");
  EXPECT_FALSE(c.has_profile("z"));
  EXPECT_EQ(c.get("profile z", "aws_access_key_id"), "AKIAZ");
  EXPECT_EQ(c.get("w", "aws_access_key_id"), "AKIAW");
}

TEST(ConfigParse, CredentialsFileWinsOverConfigFile) {
  SharedConfig c = parse("[profile a]\naws_access_key_id = FROM_CONFIG\nregion = us-east-2\n",
                         "[a]\naws_access_key_id = FROM_CREDENTIALS\n");
  EXPECT_EQ(c.get("a", "aws_access_key_id"), "FROM_CREDENTIALS");
  EXPECT_EQ(c.get("a", "region"), "us-east-2");
}

TEST(ConfigParse, ContinuationLinesAndEmptyValues) {
  SharedConfig c = parse("[default]\nkey = first\n  second\nempty =\nflag = TRUE\n");
  EXPECT_EQ(c.get("default", "key"), "first\nsecond");
  EXPECT_EQ(c.get("default", "empty"), std::nullopt);
  EXPECT_TRUE(c.get_bool("default", "flag"));
  EXPECT_FALSE(c.get_bool("default", "missing"));
}

TEST(ConfigParse, BadLinesAreUsageErrorsWithLineNumber) {
  auto r = parse_shared_config("[default]\nregion = us-east-1\nthis is not ini\n", "", "/x/config");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_NE(r.error().message.find("/x/config line 3"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_shared_config("region = x\n", "").ok());  // before any section
  EXPECT_FALSE(parse_shared_config("[default\n", "").ok());
}

TEST(ConfigLoad, MissingFilesAreEmpty) {
  TempHome home;
  auto c = load_shared_config(Environment::from({{"HOME", home.path()}}));
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_FALSE(c->config_found);
  EXPECT_FALSE(c->credentials_found);
  EXPECT_EQ(c->config_path, home.path() + "/.aws/config");
  EXPECT_EQ(c->credentials_path, home.path() + "/.aws/credentials");
  EXPECT_TRUE(c->config_profiles.empty());
}

TEST(ConfigLoad, ReadsHomeFilesOrPathsFromEnvironment) {
  TempHome home;
  home.write(".aws/config", "[profile p]\nregion = ap-south-1\n");
  home.write(".aws/credentials", "[p]\naws_access_key_id = AKIAHOME\n");
  home.write("other-config", "[profile p]\nregion = sa-east-1\n");
  home.write("other-creds", "[p]\naws_access_key_id = AKIAOTHER\n");

  auto c = load_shared_config(Environment::from({{"HOME", home.path()}}));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->config_found && c->credentials_found);
  EXPECT_EQ(c->get("p", "region"), "ap-south-1");
  EXPECT_EQ(c->get("p", "aws_access_key_id"), "AKIAHOME");

  auto o =
      load_shared_config(Environment::from({{"HOME", home.path()},
                                            {"AWS_CONFIG_FILE", home.path() + "/other-config"},
                                            {"AWS_SHARED_CREDENTIALS_FILE", home.path() + "/other-creds"}}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->get("p", "region"), "sa-east-1");
  EXPECT_EQ(o->get("p", "aws_access_key_id"), "AKIAOTHER");

  auto tilde =
      load_shared_config(Environment::from({{"HOME", home.path()}, {"AWS_CONFIG_FILE", "~/other-config"}}));
  ASSERT_TRUE(tilde.ok());
  EXPECT_EQ(tilde->config_path, home.path() + "/other-config");
  EXPECT_EQ(tilde->get("p", "region"), "sa-east-1");
}

TEST(ConfigProfile, ExplicitOptionThenAwsProfileThenDefault) {
  EXPECT_EQ(profile_name({.profile = "cli"}, Environment::from({{"AWS_PROFILE", "env"}})), "cli");
  EXPECT_EQ(profile_name({}, Environment::from({{"AWS_PROFILE", "env"}})), "env");
  EXPECT_EQ(profile_name({}, Environment::from({})), "default");
}

TEST(ConfigProfile, NamedProfileMustExist) {
  SharedConfig c = parse("[profile dev]\nregion = us-east-1\n");
  EXPECT_TRUE(check_profile_exists({.profile = "dev"}, Environment::from({}), c).ok());
  EXPECT_TRUE(check_profile_exists({}, Environment::from({}), c).ok());  // "default" may be absent
  auto s = check_profile_exists({}, Environment::from({{"AWS_PROFILE", "prod"}}), c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "ProfileNotFound");
  EXPECT_NE(s.error().message.find("prod"), std::string::npos);
}

TEST(ConfigRegion, Precedence) {
  SharedConfig c = parse("[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n");
  auto imds = [] { return std::optional<std::string>("ap-northeast-1"); };
  Environment both = Environment::from({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-2"}});
  EXPECT_EQ(*resolve_region({.region = "ca-central-1"}, both, c, imds), "ca-central-1");
  EXPECT_EQ(*resolve_region({}, both, c, imds), "us-west-2");
  EXPECT_EQ(*resolve_region({}, Environment::from({{"AWS_DEFAULT_REGION", "us-east-2"}}), c, imds),
            "us-east-2");
  EXPECT_EQ(*resolve_region({}, Environment::from({}), c, imds), "eu-west-1");
  EXPECT_EQ(*resolve_region({.profile = "dev"}, Environment::from({}), c, imds), "eu-central-1");
  EXPECT_EQ(*resolve_region({}, Environment::from({{"AWS_PROFILE", "dev"}}), c, imds), "eu-central-1");
  SharedConfig empty;
  EXPECT_EQ(*resolve_region({}, Environment::from({}), empty, imds), "ap-northeast-1");
  EXPECT_EQ(*resolve_region({}, Environment::from({}), empty), "");
}

TEST(ConfigRegion, ImdsIsNotAskedWhenRegionIsConfigured) {
  int calls = 0;
  auto imds = [&] {
    ++calls;
    return std::optional<std::string>("ap-northeast-1");
  };
  EXPECT_EQ(*resolve_region({}, Environment::from({{"AWS_REGION", "us-west-2"}}), SharedConfig{}, imds),
            "us-west-2");
  EXPECT_EQ(calls, 0);
}

TEST(ConfigRegion, InvalidRegionIsUsageError) {
  auto r = resolve_region({.region = "us-east-1.evil.com/"}, Environment::from({}), SharedConfig{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
}

// A region goes into host names and the signature's scope: from every source it must be a region name.
TEST(ConfigRegion, EverySourceGivesARegionNameOrAUsageErrorNamingTheSource) {
  struct Case {
    AwsOptions options;
    Environment env;
    std::string config;
    std::string source;
  };
  const std::string evil = "eu-west-1\r\nX-Injected: 1";
  for (const std::string& bad : {evil, std::string("ev.il/"), std::string("EU-WEST-1"), std::string("eu_west_1"),
                                std::string(64, 'a'), std::string("-eu-west-1")}) {
    SCOPED_TRACE(bad);
    std::vector<Case> cases;
    cases.push_back({{.region = bad}, Environment::from({}), "", "from region"});
    cases.push_back({{.region = bad, .name = "source"}, Environment::from({}), "", "from source.region"});
    cases.push_back({{}, Environment::from({{"AWS_REGION", bad}}), "", "AWS_REGION"});
    cases.push_back({{}, Environment::from({{"AWS_DEFAULT_REGION", bad}}), "", "AWS_DEFAULT_REGION"});
    if (bad.find('\n') == std::string::npos)  // a value with a line break is two lines of the file
      cases.push_back({{}, Environment::from({}), "[default]\nregion = " + bad + "\n", "profile default"});
    for (const Case& c : cases) {
      SCOPED_TRACE(c.source);
      auto r = resolve_region(c.options, c.env, parse(c.config));
      ASSERT_FALSE(r.ok()) << *r;
      EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
      EXPECT_NE(r.error().message.find(c.source), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().message.find_first_of("\r\n"), std::string::npos) << r.error().message;
    }
  }
  auto imds = [] { return std::optional<std::string>("ev.il/"); };
  auto r = resolve_region({}, Environment::from({}), SharedConfig{}, imds);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("EC2 instance metadata"), std::string::npos);
  // And the derived endpoints never take one either.
  EXPECT_FALSE(resolve_endpoint("s3", "ev.il/", {}, Environment::from({}), {}).ok());
}

std::string url(std::string_view service, std::string_view region, const AwsOptions& o,
                const Environment& env, const SharedConfig& c = {}) {
  auto e = resolve_endpoint(service, region, o, env, c);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? e->url : "";
}

TEST(ConfigEndpoint, DefaultsPerServiceAndPartition) {
  Environment env = Environment::from({});
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, env), "https://dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(url("s3", "eu-west-1", {}, env), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(url("sts", "us-west-2", {}, env), "https://sts.us-west-2.amazonaws.com");
  EXPECT_EQ(url("sso", "eu-central-1", {}, env), "https://portal.sso.eu-central-1.amazonaws.com");
  EXPECT_EQ(url("dynamodb", "cn-north-1", {}, env), "https://dynamodb.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(url("s3", "cn-northwest-1", {}, env), "https://s3.cn-northwest-1.amazonaws.com.cn");
  auto e = resolve_endpoint("s3", "us-east-1", {}, env, {});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->custom);
  EXPECT_FALSE(e->s3_path_style);
}

TEST(ConfigEndpoint, FipsAndDualStackFromEnvironmentOrProfile) {
  Environment fips = Environment::from({{"AWS_USE_FIPS_ENDPOINT", "true"}});
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, fips), "https://dynamodb-fips.us-east-1.amazonaws.com");
  EXPECT_EQ(url("s3", "us-east-1", {}, fips), "https://s3-fips.us-east-1.amazonaws.com");
  EXPECT_EQ(url("sts", "us-east-2", {}, fips), "https://sts-fips.us-east-2.amazonaws.com");
  Environment dual = Environment::from({{"AWS_USE_DUALSTACK_ENDPOINT", "true"}});
  EXPECT_EQ(url("s3", "us-west-2", {}, dual), "https://s3.dualstack.us-west-2.amazonaws.com");
  EXPECT_EQ(url("dynamodb", "us-west-2", {}, dual), "https://dynamodb.us-west-2.api.aws");
  SharedConfig c = parse("[default]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n");
  EXPECT_EQ(url("s3", "us-east-1", {}, Environment::from({}), c),
            "https://s3-fips.dualstack.us-east-1.amazonaws.com");
  // The environment variable overrides the profile, both ways.
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, Environment::from({{"AWS_USE_FIPS_ENDPOINT", "false"}}), c),
            "https://dynamodb.us-east-1.api.aws");
}

TEST(ConfigEndpoint, CustomEndpointPrecedence) {
  SharedConfig c = parse(
      "[default]\nendpoint_url = http://profile:1\nservices = local\n"
      "[services local]\ns3 =\n  endpoint_url = http://services-s3:2\n");
  Environment env = Environment::from({{"AWS_ENDPOINT_URL_S3", "http://env-s3:3/"},
                                       {"AWS_ENDPOINT_URL_DYNAMODB", "http://env-ddb:4"},
                                       {"AWS_ENDPOINT_URL", "http://env-all:5"}});
  EXPECT_EQ(url("s3", "us-east-1", {.endpoint_url = "http://option:6"}, env, c), "http://option:6");
  EXPECT_EQ(url("s3", "us-east-1", {}, env, c), "http://env-s3:3");  // trailing slash dropped
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, env, c), "http://env-ddb:4");
  EXPECT_EQ(url("sts", "us-east-1", {}, env, c), "http://env-all:5");
  Environment none = Environment::from({});
  EXPECT_EQ(url("s3", "us-east-1", {}, none, c), "http://services-s3:2");
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, none, c), "http://profile:1");
  auto e = resolve_endpoint("dynamodb", "", {}, none, c);  // a custom endpoint needs no region
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->custom);
}

TEST(ConfigEndpoint, IgnoreConfiguredEndpointUrls) {
  SharedConfig c = parse("[default]\nendpoint_url = http://profile:1\n");
  Environment env = Environment::from(
      {{"AWS_ENDPOINT_URL", "http://env:2"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, env, c), "https://dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(url("dynamodb", "us-east-1", {.endpoint_url = "http://option:3"}, env, c), "http://option:3");
  SharedConfig ignoring =
      parse("[default]\nendpoint_url = http://profile:1\nignore_configured_endpoint_urls = true\n");
  EXPECT_EQ(url("dynamodb", "us-east-1", {}, Environment::from({}), ignoring),
            "https://dynamodb.us-east-1.amazonaws.com");
}

TEST(ConfigEndpoint, MissingRegionIsUsageErrorWithHint) {
  auto e = resolve_endpoint("dynamodb", "", {}, Environment::from({}), {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kUsage);
  EXPECT_NE(e.error().hint.find("AWS_REGION"), std::string::npos);
  EXPECT_NE(e.error().hint.find("set the region"), std::string::npos) << e.error().hint;
}

TEST(ConfigEndpoint, BadCustomUrlIsUsageError) {
  auto e = resolve_endpoint("s3", "us-east-1", {.endpoint_url = "localhost:9000"}, Environment::from({}), {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kUsage);
}

// An endpoint URL becomes the host of every request: http or https, a host, nothing that cannot go on
// the wire; the error names where the URL came from.
TEST(ConfigEndpoint, EndpointUrlsNeedASchemeAndAHostAndNameTheirSource) {
  for (const std::string& bad :
       {std::string("http://"), std::string("https:///path"), std::string("http://:9000"),
        std::string("ftp://host"), std::string("http://ho st:1"), std::string("http://host\r\nX-Injected: 1"),
        std::string("http://host/\x01"), std::string("http://h\xc3\xa9st"), std::string("http://host/?x=1"),
        std::string("http://user@")}) {
    SCOPED_TRACE(bad);
    auto option = resolve_endpoint("s3", "us-east-1", {.endpoint_url = bad, .name = "dest_aws"},
                                   Environment::from({}), {});
    ASSERT_FALSE(option.ok()) << option->url;
    EXPECT_EQ(option.error().kind, ErrorKind::kUsage);
    EXPECT_NE(option.error().message.find("from dest_aws.endpoint_url"), std::string::npos) << option.error().message;
    EXPECT_EQ(option.error().field, "dest_aws.endpoint_url");
    EXPECT_EQ(option.error().message.find_first_of("\r\n"), std::string::npos);
    auto env = resolve_endpoint("s3", "us-east-1", {}, Environment::from({{"AWS_ENDPOINT_URL_S3", bad}}), {});
    ASSERT_FALSE(env.ok());
    EXPECT_NE(env.error().message.find("AWS_ENDPOINT_URL_S3"), std::string::npos) << env.error().message;
    auto all = resolve_endpoint("dynamodb", "us-east-1", {}, Environment::from({{"AWS_ENDPOINT_URL", bad}}), {});
    ASSERT_FALSE(all.ok());
    EXPECT_NE(all.error().message.find("AWS_ENDPOINT_URL"), std::string::npos);
  }
  auto profile = parse_shared_config("[profile dev]\nendpoint_url = http://\n", "", "/home/u/.aws/config",
                                     "/home/u/.aws/credentials");
  ASSERT_TRUE(profile.ok());
  auto p = resolve_endpoint("s3", "us-east-1", {.profile = "dev"}, Environment::from({}), *profile);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("profile dev"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("/home/u/.aws/config"), std::string::npos) << p.error().message;
  auto creds = parse_shared_config("", "[dev]\nendpoint_url = http://\n", "/home/u/.aws/config",
                                   "/home/u/.aws/credentials");
  ASSERT_TRUE(creds.ok());
  auto c = resolve_endpoint("s3", "us-east-1", {.profile = "dev"}, Environment::from({}), *creds);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("/home/u/.aws/credentials"), std::string::npos) << c.error().message;
  // What is fine stays fine: ports, paths, IPv6 literals.
  EXPECT_EQ(url("s3", "us-east-1", {.endpoint_url = "http://127.0.0.1:9000/"}, Environment::from({})),
            "http://127.0.0.1:9000");
  EXPECT_EQ(url("s3", "us-east-1", {.endpoint_url = "https://[::1]:9000/base"}, Environment::from({})),
            "https://[::1]:9000/base");
}

TEST(ConfigS3, BucketUrlVirtualHostedOrPathStyle) {
  Environment env = Environment::from({});
  auto aws = resolve_endpoint("s3", "us-east-1", {}, env, {});
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(s3_bucket_url(*aws, "my-bucket", false), "https://my-bucket.s3.us-east-1.amazonaws.com");
  EXPECT_EQ(s3_bucket_url(*aws, "my-bucket", true), "https://s3.us-east-1.amazonaws.com/my-bucket");
  EXPECT_EQ(s3_bucket_url(*aws, "my.dotted.bucket", false),
            "https://s3.us-east-1.amazonaws.com/my.dotted.bucket");
  EXPECT_EQ(s3_bucket_url(*aws, "Legacy_Bucket", false), "https://s3.us-east-1.amazonaws.com/Legacy_Bucket");

  auto local = resolve_endpoint("s3", "us-east-1", {.endpoint_url = "http://127.0.0.1:4569"}, env, {});
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(local->s3_path_style);
  EXPECT_EQ(s3_bucket_url(*local, "b1", false), "http://127.0.0.1:4569/b1");

  SharedConfig path = parse("[default]\ns3 =\n  addressing_style = path\n");
  auto p = resolve_endpoint("s3", "eu-west-1", {}, env, path);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->s3_path_style);
  EXPECT_EQ(s3_bucket_url(*p, "b1", false), "https://s3.eu-west-1.amazonaws.com/b1");

  SharedConfig virt = parse("[default]\ns3 =\n  addressing_style = virtual\n");
  auto v = resolve_endpoint("s3", "us-east-1", {.endpoint_url = "https://minio.example:9000"}, env, virt);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(s3_bucket_url(*v, "bkt1", false), "https://bkt1.minio.example:9000");
}

}  // namespace
}  // namespace ddb2s3

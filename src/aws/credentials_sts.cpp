// STS sources: AssumeRole (signed with the source profile's credentials) and AssumeRoleWithWebIdentity.
#include <pugixml.hpp>

#include "aws/client.h"
#include "aws/credentials_internal.h"
#include "base/encoding.h"

namespace ddb2s3::credentials_internal {
namespace {

constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded; charset=utf-8";

void add_param(std::string& body, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (!body.empty()) body += '&';
  body += name;
  body += '=';
  body += uri_encode(value, false);
}

// <XResponse><XResult><Credentials>... of AssumeRole and AssumeRoleWithWebIdentity.
Result<Credentials> parse_sts_credentials(const std::string& xml, const char* result_name,
                                          std::string source) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size()))
    return Error::internal("STS answered something that is not XML");
  pugi::xml_node creds = doc.document_element().child(result_name).child("Credentials");
  Credentials c;
  c.access_key_id = creds.child_value("AccessKeyId");
  c.secret_access_key = creds.child_value("SecretAccessKey");
  c.session_token = creds.child_value("SessionToken");
  c.source = std::move(source);
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return Error::internal(std::string("STS answer without ") + result_name + "/Credentials");
  if (std::string_view e = creds.child_value("Expiration"); !e.empty()) {
    auto t = parse_expiration(e);
    if (!t)
      return Error::internal("STS answered an unreadable Expiration '" + std::string(e) +
                             "': " + t.error().message);
    c.expiration = *t;
  }
  return c;
}

// The form fields that both AssumeRole calls send.
std::string assume_role_form(std::string_view action, const AssumeRoleParams& params) {
  std::string body;
  add_param(body, "Action", action);
  add_param(body, "Version", "2011-06-15");
  add_param(body, "RoleArn", params.role_arn);
  add_param(body, "RoleSessionName", params.session_name);
  add_param(body, "DurationSeconds", params.duration_seconds);
  return body;
}

// body is not copied: it must outlive the request.
HttpRequest sts_request(const std::string& endpoint, std::string_view body) {
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.set_header("Content-Type", std::string(kFormContentType));
  req.body = body;
  return req;
}

}  // namespace

Result<StsTarget> sts_target(const std::string& profile, const AwsOptions& options, const Environment& env,
                             const SharedConfig& config, const ChainOptions& chain) {
  // options.endpoint_url is the side's DynamoDB or S3 endpoint, never STS's.
  AwsOptions sts_options{profile, options.region, ""};
  DDB2S3_ASSIGN_OR_RETURN(auto region, resolve_region(sts_options, env, config));
  StsTarget t;
  t.region = region.empty() ? "us-east-1" : region;
  if (!chain.sts_endpoint.empty()) {
    t.endpoint = chain.sts_endpoint;
  } else {
    DDB2S3_ASSIGN_OR_RETURN(auto endpoint, resolve_endpoint("sts", t.region, sts_options, env, config));
    t.endpoint = endpoint.url;
  }
  while (!t.endpoint.empty() && t.endpoint.back() == '/') t.endpoint.pop_back();
  return t;
}

Fetch assume_role_fetch(AssumeRoleParams params, std::shared_ptr<CredentialsProvider> source,
                        const ChainOptions& chain) {
  auto config = std::make_shared<ServiceConfig>();
  config->service = "sts";
  config->region = params.sts.region;
  config->endpoint = params.sts.endpoint;
  config->credentials = std::move(source);
  config->http = chain.http;
  config->retry.max_attempts = 3;
  std::string body = assume_role_form("AssumeRole", params);
  add_param(body, "ExternalId", params.external_id);
  std::shared_ptr<const ServiceConfig> shared = std::move(config);
  return [shared, body = std::move(body), role_arn = params.role_arn]() -> Result<Credentials> {
    AwsClient client(shared);
    HttpRequest req = sts_request(shared->endpoint, body);
    HttpResponse resp;
    CallInfo info{"AssumeRole", "role " + role_arn, {}};
    DDB2S3_RETURN_IF_ERROR(client.send(req, resp, info));
    return parse_sts_credentials(resp.body, "AssumeRoleResult", "assume-role " + role_arn);
  };
}

Fetch web_identity_fetch(AssumeRoleParams params, std::string token_file, const ChainOptions& chain) {
  HttpOptions http = chain.http;
  return [params = std::move(params), token_file = std::move(token_file), http]() -> Result<Credentials> {
    bool ok = false;
    std::string token = read_text_file(token_file, &ok);
    if (!ok) {
      Error e = Error::io("cannot read the web identity token file " + token_file);
      e.operation = "AssumeRoleWithWebIdentity";
      return e;
    }
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    std::string body = assume_role_form("AssumeRoleWithWebIdentity", params);
    add_param(body, "WebIdentityToken", token);
    HttpRequest req = sts_request(params.sts.endpoint, body);
    HttpClient client(http);
    HttpResponse resp;
    CallInfo info{"AssumeRoleWithWebIdentity", "role " + params.role_arn, {}};
    if (auto s = client.perform(req, resp); !s)
      return std::move(s).error().with_context(std::string(info.operation), info.resource);
    if (resp.status != 200) return error_from_response(resp, info);
    return parse_sts_credentials(resp.body, "AssumeRoleWithWebIdentityResult", "web-identity");
  };
}

}  // namespace ddb2s3::credentials_internal

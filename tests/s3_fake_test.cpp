// S3Client against an in-process test server, for what s3rver cannot show: request shapes and
// headers as they arrive, abort, a 200 carrying an <Error>, and region redirects. Also URL building
// and the boto3 ExtraArgs mapping.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <pugixml.hpp>

#include "aws/config.h"
#include "s3/s3.h"
#include "support/aws_fixtures.h"
#include "support/http_server.h"

namespace ddb2s3 {
namespace {

using testing::TestHttpServer;

std::shared_ptr<ServiceConfig> config_for(const TestHttpServer& server, std::string region = "us-east-1") {
  auto c = testing::test_service_config("s3", server.url());
  c->region = std::move(region);
  c->credentials = testing::test_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  c->retry.max_attempts = 1;  // what is sent and answered once is what these tests look at
  return c;
}

// What one request looked like when it arrived.
struct Seen {
  std::string method, path, query_upload_id, query_part_number, body;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);  // httplib::Headers compares case-insensitively
    return it == headers.end() ? "" : it->second;
  }
};

// Records every request, thread-safely (the server answers on its own thread).
class Recorder {
 public:
  void add(const httplib::Request& req) {
    Seen s{req.method, req.path,   req.get_param_value("uploadId"), req.get_param_value("partNumber"),
           req.body,   req.headers};
    std::lock_guard lock(mu_);
    seen_.push_back(std::move(s));
  }
  std::vector<Seen> all() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  Seen last() const {
    std::lock_guard lock(mu_);
    return seen_.empty() ? Seen{} : seen_.back();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

// ---- URLs ---------------------------------------------------------------------------------------

TEST(S3Url, AwsEndpointsUseVirtualHostedUrls) {
  ServiceConfig c;
  c.region = "eu-west-1";
  c.endpoint = "https://s3.eu-west-1.amazonaws.com";
  EXPECT_EQ(s3_object_url(c, "my-bucket", "a b/c+d~e=f.json.gz"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd~e%3Df.json.gz");
  EXPECT_EQ(s3_object_url(c, "my-bucket", ""), "https://my-bucket.s3.eu-west-1.amazonaws.com/");
  c.endpoint.clear();  // unresolved: AWS's endpoint for the region
  EXPECT_EQ(s3_object_url(c, "my-bucket", "k"), "https://my-bucket.s3.eu-west-1.amazonaws.com/k");
}

TEST(S3Url, PathStyleForDottedBucketsCustomEndpointsAndWhenAsked) {
  ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint = "https://s3.us-east-1.amazonaws.com";
  EXPECT_EQ(s3_object_url(c, "my.dotted.bucket", "k"),
            "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/k");
  c.s3_path_style = true;
  EXPECT_EQ(s3_object_url(c, "b1", "x/y"), "https://s3.us-east-1.amazonaws.com/b1/x/y");
  c.s3_path_style = false;
  c.endpoint = "http://127.0.0.1:9000/";
  EXPECT_EQ(s3_object_url(c, "b1", "x/y"), "http://127.0.0.1:9000/b1/x/y");
  EXPECT_EQ(s3_object_url(c, "b1", ""), "http://127.0.0.1:9000/b1");
  EXPECT_EQ(s3_object_url(c, "b1", "日"), "http://127.0.0.1:9000/b1/%E6%97%A5");
}

TEST(S3Url, RegionRedirectsChangeAwsHostsOnly) {
  EXPECT_TRUE(is_aws_s3_endpoint("https://s3.amazonaws.com"));
  EXPECT_TRUE(is_aws_s3_endpoint("https://s3.us-west-2.amazonaws.com"));
  EXPECT_FALSE(is_aws_s3_endpoint("http://127.0.0.1:4569"));
  EXPECT_FALSE(is_aws_s3_endpoint("https://minio.example.com"));
  EXPECT_EQ(s3_endpoint_for_region("https://s3.amazonaws.com", "eu-west-1"),
            "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(s3_endpoint_for_region("https://s3.us-east-1.amazonaws.com", "ap-south-1"),
            "https://s3.ap-south-1.amazonaws.com");
  EXPECT_EQ(s3_endpoint_for_region("https://s3-fips.us-east-1.amazonaws.com", "us-west-2"),
            "https://s3-fips.us-west-2.amazonaws.com");
  EXPECT_EQ(s3_endpoint_for_region("https://s3.dualstack.us-east-1.amazonaws.com", "eu-central-1"),
            "https://s3.dualstack.eu-central-1.amazonaws.com");
  EXPECT_EQ(s3_endpoint_for_region("https://s3.amazonaws.com", "cn-north-1"),
            "https://s3.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(s3_endpoint_for_region("http://127.0.0.1:4569", "eu-west-1"), "http://127.0.0.1:4569");
}

// ---- ExtraArgs ----------------------------------------------------------------------------------

TEST(ExtraArgs, MapsBoto3NamesToHeaders) {
  Result<ObjectOptions> o = object_options_from_extra_args(R"({
    "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
    "StorageClass": "STANDARD_IA", "ACL": "bucket-owner-full-control", "ExpectedBucketOwner": "111122223333",
    "Metadata": {"run-id": "r1", "source": "orders"}, "Tagging": "team=data&env=prod",
    "ContentType": "application/gzip", "ContentEncoding": "gzip", "CacheControl": "no-cache",
    "ContentDisposition": "attachment", "ObjectLockMode": "GOVERNANCE", "BucketKeyEnabled": true})");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->get("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(o->get("x-amz-server-side-encryption-aws-kms-key-id"),
            "arn:aws:kms:us-east-1:111122223333:key/k");
  EXPECT_EQ(o->get("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(o->get("x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(o->get("x-amz-expected-bucket-owner"), "111122223333");
  EXPECT_EQ(o->get("x-amz-meta-run-id"), "r1");
  EXPECT_EQ(o->get("x-amz-meta-source"), "orders");
  EXPECT_EQ(o->get("x-amz-tagging"), "team=data&env=prod");
  EXPECT_EQ(o->get("content-type"), "application/gzip");
  EXPECT_EQ(o->get("Content-Encoding"), "gzip");
  EXPECT_EQ(o->get("Cache-Control"), "no-cache");
  EXPECT_EQ(o->get("Content-Disposition"), "attachment");
  EXPECT_EQ(o->get("x-amz-object-lock-mode"), "GOVERNANCE");
  EXPECT_EQ(o->get("x-amz-server-side-encryption-bucket-key-enabled"), "true");
  EXPECT_EQ(o->headers.size(), 14u);
}

TEST(ExtraArgs, CustomerKeyIsSentInBase64WithItsMd5AsBotocoreDoes) {
  Result<ObjectOptions> o = object_options_from_extra_args(
      R"({"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "01234567890123456789012345678901"})");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->get("x-amz-server-side-encryption-customer-algorithm"), "AES256");
  // base64.b64encode(b"01234567890123456789012345678901"), base64.b64encode(md5(key).digest())
  EXPECT_EQ(o->get("x-amz-server-side-encryption-customer-key"),
            "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=");
  EXPECT_EQ(o->get("x-amz-server-side-encryption-customer-key-MD5"),
            content_md5("01234567890123456789012345678901"));
}

TEST(ExtraArgs, UnknownNameIsAUsageErrorListingTheKnownOnes) {
  Result<ObjectOptions> o = object_options_from_extra_args(R"({"ServerSideEncryptionX": "AES256"})");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().kind, ErrorKind::kUsage);
  EXPECT_NE(o.error().message.find("ServerSideEncryptionX"), std::string::npos);
  EXPECT_NE(o.error().message.find("ServerSideEncryption,"), std::string::npos) << o.error().message;
  EXPECT_NE(o.error().message.find("Metadata"), std::string::npos);
}

TEST(ExtraArgs, WrongTypesAndBadJsonAreUsageErrors) {
  for (const char* json :
       {R"({"StorageClass": 1})", R"({"Metadata": "a=b"})", R"({"Metadata": {"a": 1}})",
        R"({"BucketKeyEnabled": "yes"})", R"(["ACL"])", R"({"ACL": )", R"({"ChecksumAlgorithm": "CRC32"})"}) {
    SCOPED_TRACE(json);
    Result<ObjectOptions> o = object_options_from_extra_args(json);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().kind, ErrorKind::kUsage);
  }
  EXPECT_TRUE(object_options_from_extra_args("{}").ok());
}

TEST(ExtraArgs, ErrorsNameExtraArgsAndSayWhere) {
  // The library's name for the JSON, as the field at fault (the CLI puts its flag instead).
  Result<ObjectOptions> o = object_options_from_extra_args(R"({"ACL": })");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().field, "extra_args");
  EXPECT_EQ(o.error().message.rfind("extra_args is not valid JSON: ", 0), 0u) << o.error().message;
  EXPECT_NE(o.error().message.find("at byte 9"), std::string::npos) << o.error().message;
  EXPECT_EQ(o.error().message.find("--"), std::string::npos) << "no CLI flag in a library error";
  Result<ObjectOptions> type = object_options_from_extra_args(R"({"StorageClass": 1})");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().field, "extra_args");
  EXPECT_EQ(type.error().message, "extra_args: StorageClass must be a string, not the number 1");
  // Read to the end, each name once.
  EXPECT_FALSE(object_options_from_extra_args(R"({"ACL": "private"} x)").ok());
  EXPECT_FALSE(object_options_from_extra_args(R"({"ACL": "private", "ACL": "public-read"})").ok());
  EXPECT_FALSE(object_options_from_extra_args(R"({"Metadata": {"a": "1", "a": "2"}})").ok());
}

TEST(ContentMd5, IsBase64OfTheDigest) {
  EXPECT_EQ(content_md5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(content_md5("hello"), "XUFAKrxLKna5cZ2REBfFkg==");
}

// ---- Requests as they arrive ------------------------------------------------------------------
// A header is checked where it enters: a CR or LF would end the header line and forge others.
TEST(ExtraArgs, NamesAndValuesThatCannotBeHeadersAreUsageErrorsNamingTheArgument) {
  struct Case {
    const char* json;
    const char* named;
  };
  for (const Case& c : {Case{R"({"Metadata": {"team": "data\r\nX-Injected: 1"}})", "Metadata 'team'"},
                        Case{R"({"Metadata": {"team": "a\nb"}})", "Metadata 'team'"},
                        Case{R"({"Metadata": {"a b": "c"}})", "Metadata 'a b'"},
                        Case{R"({"Metadata": {"a:b": "c"}})", "Metadata 'a:b'"},
                        Case{R"({"Metadata": {"": "c"}})", "Metadata ''"},
                        Case{R"({"Metadata": {"a\r\nX-Injected": "c"}})", "Metadata 'a\\x0d\\x0aX-Injected'"},
                        Case{R"({"ContentType": "text/plain\r\nX-Injected: 1"})", "ContentType"},
                        Case{R"({"Tagging": "a=b\u0000"})", "Tagging"},
                        Case{R"({"CacheControl": "max-age=1\u007f"})", "CacheControl"}}) {
    SCOPED_TRACE(c.json);
    Result<ObjectOptions> o = object_options_from_extra_args(c.json);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().kind, ErrorKind::kUsage);
    EXPECT_EQ(o.error().field, "extra_args");
    EXPECT_NE(o.error().message.find(c.named), std::string::npos) << o.error().message;
    EXPECT_EQ(o.error().message.find_first_of("\r\n"), std::string::npos) << o.error().message;
  }
  // What S3 takes still passes: UTF-8 and tabs in values, token punctuation in names.
  Result<ObjectOptions> fine =
      object_options_from_extra_args(R"({"Metadata": {"caf\u00e9-ok_1.x": "\u00e9t\u00e9\tici"}})");
  EXPECT_FALSE(fine.ok()) << "a non-token name";
  Result<ObjectOptions> utf8 = object_options_from_extra_args(R"({"Metadata": {"k_1.x": "\u00e9t\u00e9\tici"}})");
  ASSERT_TRUE(utf8.ok()) << utf8.error().to_string();
  EXPECT_EQ(utf8->get("x-amz-meta-k_1.x"), "\xc3\xa9t\xc3\xa9\tici");
}

TEST(ExtraArgs, UserMetadataOverTwoKilobytesIsAUsageError) {
  const std::string big(kMaxUserMetadataBytes, 'x');
  Result<ObjectOptions> o = object_options_from_extra_args(R"({"Metadata": {"a": ")" + big + R"("}})");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().kind, ErrorKind::kUsage);
  EXPECT_NE(o.error().message.find("2048"), std::string::npos) << o.error().message;
  EXPECT_TRUE(object_options_from_extra_args(R"({"Metadata": {"a": ")" + big.substr(1) + R"("}})").ok());
}

// Headers set through the typed setters (the CLI's flags) are checked too, before anything is sent.
TEST(S3Requests, UploadsRefuseOptionsWithHeadersThatCannotBeSent) {
  TestHttpServer server;
  std::atomic<int> calls{0};
  server.serve_all([&](const httplib::Request&, httplib::Response&) { ++calls; });
  server.start();
  S3Client client(config_for(server));
  ObjectOptions flags;
  flags.storage_class("STANDARD\r\nX-Injected: 1");
  EXPECT_EQ(flags.check().error().kind, ErrorKind::kUsage);
  EXPECT_NE(flags.check().error().message.find("x-amz-storage-class"), std::string::npos);
  Result<std::string> put = client.put_object("b", "k", "v", flags);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(put.error().operation, "PutObject");
  ObjectOptions meta;
  meta.metadata("a\nb", "v");
  Result<std::string> create = client.create_multipart_upload("b", "k", meta);
  ASSERT_FALSE(create.ok());
  EXPECT_EQ(create.error().kind, ErrorKind::kUsage);
  // An SSE-C key's value is never printed.
  ObjectOptions secret;
  secret.set("x-amz-server-side-encryption-customer-key", "S3CRET\n");
  ASSERT_FALSE(secret.check().ok());
  EXPECT_EQ(secret.check().error().to_string().find("S3CRET"), std::string::npos);
  EXPECT_EQ(calls.load(), 0);
}


TEST(S3Requests, PutObjectSendsTheOptionsHeadersAndIntegrityHeaders) {
  TestHttpServer server;
  Recorder rec;
  server.server().Put(".*", [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    res.set_header("ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"");
  });
  server.start();
  Result<ObjectOptions> o = object_options_from_extra_args(
      R"({"ServerSideEncryption":"aws:kms","SSEKMSKeyId":"key-1","StorageClass":"STANDARD_IA",
          "ACL":"bucket-owner-full-control","ExpectedBucketOwner":"111122223333","Metadata":{"run-id":"r1"}})");
  ASSERT_TRUE(o.ok());
  S3Client client(config_for(server));
  const std::string body = "hello";
  Result<std::string> etag = client.put_object("bucket", "dir/a b+c.json", body, *o);
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();
  EXPECT_EQ(*etag, "d41d8cd98f00b204e9800998ecf8427e");

  Seen s = rec.last();
  EXPECT_EQ(s.method, "PUT");
  EXPECT_EQ(s.path, "/bucket/dir/a b+c.json");
  EXPECT_EQ(s.body, body);
  EXPECT_EQ(s.header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(s.header("x-amz-server-side-encryption-aws-kms-key-id"), "key-1");
  EXPECT_EQ(s.header("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(s.header("x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(s.header("x-amz-expected-bucket-owner"), "111122223333");
  EXPECT_EQ(s.header("x-amz-meta-run-id"), "r1");
  EXPECT_EQ(s.header("Content-MD5"), content_md5(body));
  // sha256("hello"): the signer puts the payload hash in a header for S3.
  EXPECT_EQ(s.header("x-amz-content-sha256"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_NE(s.header("Authorization").find("Credential=AKIDEXAMPLE/"), std::string::npos);
}

TEST(S3Requests, ExpectedBucketOwnerOfTheClientGoesWithEveryRequest) {
  TestHttpServer server;
  Recorder rec;
  auto record = [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    res.set_header("ETag", "\"e\"");
    if (req.method == "GET")
      res.set_content("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
                      "application/xml");
    if (req.method == "POST")
      res.set_content(
          "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
          "application/xml");
  };
  server.server().Get(".*", record).Put(".*", record).Post(".*", record);  // HEAD goes with GET
  server.start();
  S3Client client(config_for(server), S3ClientOptions{.expected_bucket_owner = "111122223333"});
  ASSERT_TRUE(client.head_bucket("bucket").ok());
  ASSERT_TRUE(client.list_objects("bucket", "p/").ok());
  ASSERT_TRUE(client.put_object("bucket", "k", "v").ok());
  ASSERT_TRUE(client.create_multipart_upload("bucket", "k").ok());
  ASSERT_TRUE(client.upload_part("bucket", "k", "u1", 1, "v").ok());
  std::vector<Seen> all = rec.all();
  ASSERT_EQ(all.size(), 5u);
  for (const Seen& s : all) {
    SCOPED_TRACE(s.method + " " + s.path);
    EXPECT_EQ(s.header("x-amz-expected-bucket-owner"), "111122223333");
  }
}

TEST(S3Requests, MultipartCallsHaveTheirDocumentedShapes) {
  TestHttpServer server;
  Recorder rec;
  server.server().Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    if (req.has_param("uploads"))
      res.set_content(
          "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
          "<UploadId>VXBsb2FkIElE+/=</UploadId></InitiateMultipartUploadResult>",
          "application/xml");
    else
      res.set_content(
          "<CompleteMultipartUploadResult><ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag>"
          "</CompleteMultipartUploadResult>",
          "application/xml");
  });
  server.server().Put(".*", [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    res.set_header("ETag", "\"etag-" + req.get_param_value("partNumber") + "\"");
  });
  server.server().Delete(".*", [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    res.status = 204;
  });
  server.start();
  S3Client client(config_for(server));
  ObjectOptions options;
  options.server_side_encryption("AES256").storage_class("GLACIER_IR").metadata("a", "b");

  Result<std::string> upload = client.create_multipart_upload("b", "dir/k", options);
  ASSERT_TRUE(upload.ok()) << upload.error().to_string();
  EXPECT_EQ(*upload, "VXBsb2FkIElE+/=");
  Seen create = rec.last();
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.path, "/b/dir/k");
  EXPECT_EQ(create.header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(create.header("x-amz-storage-class"), "GLACIER_IR");
  EXPECT_EQ(create.header("x-amz-meta-a"), "b");
  EXPECT_EQ(create.header("Content-MD5"), "");

  Result<std::string> part = client.upload_part("b", "dir/k", *upload, 2, "part two");
  ASSERT_TRUE(part.ok()) << part.error().to_string();
  EXPECT_EQ(*part, "etag-2");
  Seen put = rec.last();
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.query_part_number, "2");
  EXPECT_EQ(put.query_upload_id, "VXBsb2FkIElE+/=");  // encoded on the wire, decoded by the server
  EXPECT_EQ(put.header("Content-MD5"), content_md5("part two"));
  EXPECT_EQ(put.header("x-amz-storage-class"), "");  // object headers belong to the create call only

  Result<std::string> etag =
      client.complete_multipart_upload("b", "dir/k", *upload, {{1, "etag-1"}, {2, "\"etag-2\""}});
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-2");
  Seen complete = rec.last();
  EXPECT_EQ(complete.query_upload_id, "VXBsb2FkIElE+/=");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(complete.body.c_str()));
  std::vector<std::pair<std::string, std::string>> parts;
  for (auto p : doc.child("CompleteMultipartUpload").children("Part"))
    parts.emplace_back(p.child_value("PartNumber"), p.child_value("ETag"));
  EXPECT_EQ(parts,
            (std::vector<std::pair<std::string, std::string>>{{"1", "\"etag-1\""}, {"2", "\"etag-2\""}}));

  Status aborted = client.abort_multipart_upload("b", "dir/k", *upload);
  ASSERT_TRUE(aborted.ok()) << aborted.error().to_string();
  Seen abort = rec.last();
  EXPECT_EQ(abort.method, "DELETE");
  EXPECT_EQ(abort.path, "/b/dir/k");
  EXPECT_EQ(abort.query_upload_id, "VXBsb2FkIElE+/=");
}

TEST(S3Requests, CompleteAnswered200WithAnErrorBodyIsAnError) {
  TestHttpServer server;
  server.server().Post(".*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
        "<Message>We encountered an internal error. Please try again.</Message>"
        "<RequestId>R1</RequestId></Error>",
        "application/xml");
  });
  server.start();
  S3Client client(config_for(server));
  Result<std::string> etag = client.complete_multipart_upload("b", "k", "u1", {{1, "e1"}});
  ASSERT_FALSE(etag.ok());
  EXPECT_EQ(etag.error().code, "InternalError");
  EXPECT_EQ(etag.error().message, "We encountered an internal error. Please try again.");
  EXPECT_EQ(etag.error().operation, "CompleteMultipartUpload");
  EXPECT_EQ(etag.error().resource, "s3://b/k");
}

TEST(S3Requests, CompleteAnswered200WithAnInternalErrorIsRetried) {
  TestHttpServer server;
  std::atomic<int> calls{0};
  server.server().Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1)
      res.set_content("<Error><Code>InternalError</Code><Message>try again</Message></Error>",
                      "application/xml");
    else
      res.set_content("<CompleteMultipartUploadResult><ETag>\"e-1\"</ETag></CompleteMultipartUploadResult>",
                      "application/xml");
  });
  server.start();
  auto config = config_for(server);
  config->retry.max_attempts = 3;
  config->clock.sleep = [](std::chrono::milliseconds) {};  // no real back-off in a test
  S3Client client(config);
  Result<std::string> etag = client.complete_multipart_upload("b", "k", "u1", {{1, "e1"}});
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();
  EXPECT_EQ(*etag, "e-1");
  EXPECT_EQ(calls.load(), 2);
}

TEST(S3Requests, HeadBucketExplainsABare403AndA404) {
  TestHttpServer server;
  server.serve_all([](const httplib::Request& req, httplib::Response& res) {
    res.status = req.path == "/forbidden" ? 403 : 404;
  });
  server.start();
  S3Client client(config_for(server));
  Status denied = client.head_bucket("forbidden");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_EQ(denied.error().http_status, 403);
  EXPECT_EQ(denied.error().message, "access to bucket 'forbidden' was denied, or the credentials are wrong");
  EXPECT_EQ(denied.error().kind, ErrorKind::kClient);

  Status missing = client.head_bucket("nowhere");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchBucket");
  EXPECT_NE(missing.error().message.find("'nowhere'"), std::string::npos);
  EXPECT_FALSE(missing.error().hint.empty());
}

TEST(S3Requests, ListDecodesUrlEncodedKeys) {
  TestHttpServer server;
  Recorder rec;
  server.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    rec.add(req);
    res.set_content(
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
        "<Contents><Key>p/a+b%2Bc%01</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>"
        "</ListBucketResult>",
        "application/xml");
  });
  server.start();
  S3Client client(config_for(server));
  Result<ListPage> page = client.list_objects_page("b", "p/");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "p/a b+c\x01");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].etag, "abc");
  EXPECT_EQ(rec.last().path, "/b");
}

// A server's malformed answer is a server error naming the operation (exit 1), never a usage error, and
// never a number read as 0.
TEST(S3Requests, MalformedAnswersAreServerErrorsNamingTheOperation) {
  TestHttpServer server;
  std::string answer;
  std::mutex mu;
  server.serve_all([&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mu);
    res.set_content(answer, "application/xml");
  });
  server.start();
  S3Client client(config_for(server));
  auto answer_with = [&](std::string a) {
    std::lock_guard lock(mu);
    answer = std::move(a);
  };
  for (const char* list :
       {"<html>proxy</html>", "<ListBucketResult><Contents><Key>a",
        "<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size></Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>"}) {
    SCOPED_TRACE(list);
    answer_with(list);
    Result<ListPage> page = client.list_objects_page("b", "p/");
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(page.error().operation, "ListObjectsV2");
    EXPECT_EQ(page.error().resource, "s3://b/p/");
  }
  for (const char* xml : {"not xml", "<InitiateMultipartUploadResult><UploadId></UploadId>"}) {
    answer_with(xml);
    Result<std::string> id = client.create_multipart_upload("b", "k");
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(id.error().operation, "CreateMultipartUpload");
    Result<std::string> etag = client.complete_multipart_upload("b", "k", "u", {{1, "e"}});
    ASSERT_FALSE(etag.ok());
    EXPECT_EQ(etag.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(etag.error().operation, "CompleteMultipartUpload");
  }
}

// ---- Region redirects -------------------------------------------------------------------------

// Answers like a bucket in eu-west-1 reached through us-east-1: 301 + x-amz-bucket-region, unless the
// request is signed for eu-west-1.
class WrongRegionServer {
 public:
  explicit WrongRegionServer(bool authorization_malformed_style = false) {
    auto handle = [this, authorization_malformed_style](const httplib::Request& req, httplib::Response& res) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.find("/eu-west-1/s3/aws4_request") != std::string::npos) {
        ++right_;
        res.set_header("ETag", "\"ok\"");
        return;
      }
      ++wrong_;
      if (authorization_malformed_style) {  // what S3 answers to a request signed for the wrong region
        res.status = 400;
        if (req.method != "HEAD")
          res.set_content(
              "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is "
              "wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>",
              "application/xml");
        return;
      }
      res.status = 301;
      res.set_header("x-amz-bucket-region", "eu-west-1");
      if (req.method != "HEAD")
        res.set_content(
            "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must "
            "be addressed using the specified endpoint.</Message></Error>",
            "application/xml");
    };
    server_.server().Put(".*", handle).Get(".*", handle);  // HEAD goes with GET
    server_.start();
  }
  const TestHttpServer& server() const { return server_; }
  int wrong() const { return wrong_; }
  int right() const { return right_; }

 private:
  TestHttpServer server_;
  std::atomic<int> wrong_{0}, right_{0};
};

TEST(S3Redirect, A301WithTheBucketRegionIsFollowedOnceAndRemembered) {
  WrongRegionServer s;
  auto cache = std::make_shared<BucketRegionCache>();
  S3Client client(config_for(s.server()), S3ClientOptions{.region_cache = cache});
  Result<std::string> etag = client.put_object("eu-bucket", "k", "v");
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();
  EXPECT_EQ(*etag, "ok");
  EXPECT_EQ(s.wrong(), 1);
  EXPECT_EQ(client.bucket_region("eu-bucket"), "eu-west-1");
  EXPECT_EQ(client.bucket_region("other-bucket"), "us-east-1");

  // Later calls, and other clients sharing the cache, go to the right region straight away.
  ASSERT_TRUE(client.head_bucket("eu-bucket").ok());
  S3Client other(config_for(s.server()), S3ClientOptions{.region_cache = cache});
  ASSERT_TRUE(other.put_object("eu-bucket", "k2", "v").ok());
  EXPECT_EQ(s.wrong(), 1);
  EXPECT_EQ(s.right(), 3);
}

TEST(S3Redirect, HeadBucketFollowsABodyless301) {
  WrongRegionServer s;
  S3Client client(config_for(s.server()));
  Status st = client.head_bucket("eu-bucket");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(s.wrong(), 1);
  EXPECT_EQ(s.right(), 1);
}

TEST(S3Redirect, AuthorizationHeaderMalformedNamesTheRegionInItsBody) {
  WrongRegionServer s(/*authorization_malformed_style=*/true);
  S3Client client(config_for(s.server()));
  Result<std::string> etag = client.put_object("eu-bucket", "k", "v");
  ASSERT_TRUE(etag.ok()) << etag.error().to_string();
  EXPECT_EQ(client.bucket_region("eu-bucket"), "eu-west-1");
  EXPECT_EQ(s.wrong(), 1);
}

TEST(S3Redirect, A301WithoutARegionIsAnErrorWithAHint) {
  TestHttpServer server;
  std::atomic<int> calls{0};
  // Answered once the PUT's body is read: answered earlier, the byte was left on the connection and
  // read as the start of the HEAD, which got a 400 without reaching the handler (when curl had sent it).
  server.serve_all([&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 301;
  });
  server.start();
  S3Client client(config_for(server));
  Result<std::string> r = client.put_object("b", "k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 301);
  EXPECT_FALSE(r.error().hint.empty());
  EXPECT_EQ(calls.load(), 2);  // the PUT, then a HEAD of the bucket asking for its region; no loop
}

// A region from a server goes into the host name and the Authorization header: one that is not a region
// name (a CR/LF, decoded from an XML entity; a '/' or '.' that would move the request to another host)
// is an error naming the bucket, neither followed nor remembered.
TEST(S3Redirect, ARegionThatIsNotARegionNameIsNeitherFollowedNorRemembered) {
  for (const bool in_body : {true, false}) {
    TestHttpServer server;
    std::atomic<int> calls{0};
    std::atomic<bool> injected{false};
    server.serve_all([&](const httplib::Request& req, httplib::Response& res) {
      ++calls;
      if (req.has_header("X-Injected")) injected = true;
      if (in_body) {
        res.status = 400;
        res.set_content(
            "<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message>"
            "<Region>eu-west-1&#13;&#10;X-Injected: 1</Region></Error>",
            "application/xml");
      } else {
        res.status = 301;
        res.set_header("x-amz-bucket-region", "ev.il/");
      }
    });
    server.start();
    auto cache = std::make_shared<BucketRegionCache>();
    S3Client client(config_for(server), S3ClientOptions{.region_cache = cache});
    Result<std::string> r = client.put_object("victim-bucket", "k", "v");
    ASSERT_FALSE(r.ok()) << (in_body ? "body" : "header");
    EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(r.error().code, "InvalidRedirectRegion");
    EXPECT_NE(r.error().message.find("victim-bucket"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().to_string().find('\n'), std::string::npos);
    EXPECT_EQ(r.error().operation, "PutObject");
    EXPECT_FALSE(cache->get("victim-bucket").has_value());
    EXPECT_EQ(client.bucket_region("victim-bucket"), "us-east-1");
    EXPECT_EQ(calls.load(), 1);  // not followed
    EXPECT_FALSE(injected.load());
  }
}

TEST(S3Url, AwsEndpointsNeverTakeARegionThatIsNotARegionName) {
  EXPECT_TRUE(is_region_name("us-east-1"));
  EXPECT_TRUE(is_region_name("us-gov-west-1"));
  EXPECT_FALSE(is_region_name("ev.il/"));
  EXPECT_FALSE(is_region_name("eu-west-1\r\nX: 1"));
  EXPECT_FALSE(is_region_name("EU-WEST-1"));
  EXPECT_FALSE(is_region_name(""));
  EXPECT_FALSE(is_region_name("-eu"));
  EXPECT_FALSE(is_region_name(std::string(64, 'a')));
}

}  // namespace
}  // namespace ddb2s3

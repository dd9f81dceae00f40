// boto3's upload ExtraArgs (the operator's extra_args) as S3 request headers.
#include <simdjson.h>

#include <array>
#include <string>

#include "base/encoding.h"
#include "s3/s3.h"

namespace ddb2s3 {
namespace {

struct ExtraArg {
  std::string_view name;    // boto3's parameter name
  std::string_view header;  // the header it becomes (botocore's S3 model)
};

// String-valued arguments, in boto3's S3Transfer.ALLOWED_UPLOAD_ARGS order.
constexpr std::array<ExtraArg, 24> kStringArgs{{
    {"ACL", "x-amz-acl"},
    {"CacheControl", "Cache-Control"},
    {"ContentDisposition", "Content-Disposition"},
    {"ContentEncoding", "Content-Encoding"},
    {"ContentLanguage", "Content-Language"},
    {"ContentType", "Content-Type"},
    {"ExpectedBucketOwner", "x-amz-expected-bucket-owner"},
    {"Expires", "Expires"},
    {"GrantFullControl", "x-amz-grant-full-control"},
    {"GrantRead", "x-amz-grant-read"},
    {"GrantReadACP", "x-amz-grant-read-acp"},
    {"GrantWriteACP", "x-amz-grant-write-acp"},
    {"ObjectLockLegalHoldStatus", "x-amz-object-lock-legal-hold"},
    {"ObjectLockMode", "x-amz-object-lock-mode"},
    {"ObjectLockRetainUntilDate", "x-amz-object-lock-retain-until-date"},
    {"RequestPayer", "x-amz-request-payer"},
    {"ServerSideEncryption", "x-amz-server-side-encryption"},
    {"StorageClass", "x-amz-storage-class"},
    {"SSECustomerAlgorithm", "x-amz-server-side-encryption-customer-algorithm"},
    {"SSECustomerKeyMD5", "x-amz-server-side-encryption-customer-key-MD5"},
    {"SSEKMSKeyId", "x-amz-server-side-encryption-aws-kms-key-id"},
    {"SSEKMSEncryptionContext", "x-amz-server-side-encryption-context"},
    {"Tagging", "x-amz-tagging"},
    {"WebsiteRedirectLocation", "x-amz-website-redirect-location"},
}};

std::string known_names() {
  std::string out;
  for (const ExtraArg& a : kStringArgs) out += std::string(a.name) + ", ";
  out += "BucketKeyEnabled, Metadata, SSECustomerKey";
  return out;
}

Error usage(std::string message) { return Error::usage("--s3-extra-args: " + std::move(message)); }

Result<std::string> string_value(simdjson::dom::element value, std::string_view name) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) return usage(std::string(name) + " must be a string");
  return std::string(s);
}

}  // namespace

Result<ObjectOptions> object_options_from_extra_args(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS)
    return usage(std::string("not valid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS)
    return usage("expected a JSON object such as {\"ServerSideEncryption\": \"aws:kms\"}");

  ObjectOptions options;
  bool has_customer_key = false;
  for (simdjson::dom::key_value_pair field : object) {
    const std::string_view name = field.key;
    if (name == "Metadata") {
      simdjson::dom::object metadata;
      if (field.value.get_object().get(metadata) != simdjson::SUCCESS)
        return usage("Metadata must be an object of strings");
      for (simdjson::dom::key_value_pair m : metadata) {
        DDB2S3_ASSIGN_OR_RETURN(std::string v, string_value(m.value, "Metadata." + std::string(m.key)));
        options.metadata(std::string(m.key), std::move(v));
      }
      continue;
    }
    if (name == "BucketKeyEnabled") {
      bool enabled = false;
      if (field.value.get_bool().get(enabled) != simdjson::SUCCESS)
        return usage("BucketKeyEnabled must be true or false");
      options.set("x-amz-server-side-encryption-bucket-key-enabled", enabled ? "true" : "false");
      continue;
    }
    if (name == "SSECustomerKey") {
      // As botocore does: the raw key is sent in base64, with the base64 MD5 of the raw key.
      DDB2S3_ASSIGN_OR_RETURN(const std::string key, string_value(field.value, name));
      options.set("x-amz-server-side-encryption-customer-key-MD5", content_md5(key));
      options.set("x-amz-server-side-encryption-customer-key", base64_encode(key));
      has_customer_key = true;
      continue;
    }
    if (name.starts_with("Checksum") || name == "MpuObjectSize") {
      return usage(std::string(name) + " is not supported: ddb2s3 protects every upload with Content-MD5");
    }
    const ExtraArg* arg = nullptr;
    for (const ExtraArg& a : kStringArgs)
      if (a.name == name) arg = &a;
    if (arg == nullptr)
      return usage("unknown S3 upload argument '" + std::string(name) + "'; known: " + known_names());
    DDB2S3_ASSIGN_OR_RETURN(std::string v, string_value(field.value, name));
    if (has_customer_key && name == "SSECustomerKeyMD5") continue;  // computed from the key, as botocore does
    options.set(std::string(arg->header), std::move(v));
  }
  return options;
}

}  // namespace ddb2s3

// boto3's upload ExtraArgs (the operator's extra_args) as S3 request headers.

#include <array>
#include <string>

#include "base/encoding.h"
#include "base/json_args.h"
#include "base/strings.h"
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

// The library's name for the JSON (boto3's and the operator's): a caller may call it otherwise.
constexpr std::string_view kArgument = "extra_args";

Error usage(std::string message) {
  return Error::usage(std::string(kArgument) + ": " + std::move(message)).with_field(std::string(kArgument));
}

Result<std::string> string_value(const JsonValue& value, std::string_view name) {
  if (!value.is(JsonValue::Kind::kString))
    return usage(std::string(name) + " must be a string, not " + value.describe());
  return value.string;
}

// Sets the header when S3 can take it; else a usage Error naming the argument (what).
Status set_checked(ObjectOptions& options, std::string header, std::string value, std::string_view what) {
  if (Status s = check_object_header(header, value); !s) return usage(std::string(what) + ": " + s.error().message);
  options.set(std::move(header), std::move(value));
  return {};
}

}  // namespace

Result<ObjectOptions> object_options_from_extra_args(std::string_view json) {
  auto root = parse_json_arg(json, kArgument);
  if (!root) return std::move(root).error();
  if (!root->is(JsonValue::Kind::kObject))
    return usage("expected a JSON object such as {\"ServerSideEncryption\": \"aws:kms\"}, not " +
                 root->describe());

  ObjectOptions options;
  bool has_customer_key = false;
  for (const auto& [name, value] : root->members) {
    if (name == "Metadata") {
      if (!value.is(JsonValue::Kind::kObject)) return usage("Metadata must be an object of strings");
      for (const auto& [key, text] : value.members) {
        DDB2S3_ASSIGN_OR_RETURN(std::string v, string_value(text, "Metadata '" + key + "'"));
        DDB2S3_RETURN_IF_ERROR(set_checked(options, "x-amz-meta-" + key, std::move(v), "Metadata '" + escape_controls(key, 100) + "'"));
      }
      continue;
    }
    if (name == "BucketKeyEnabled") {
      if (!value.is(JsonValue::Kind::kBool)) return usage("BucketKeyEnabled must be true or false");
      options.set("x-amz-server-side-encryption-bucket-key-enabled", value.boolean ? "true" : "false");
      continue;
    }
    if (name == "SSECustomerKey") {
      // As botocore does: the raw key is sent in base64, with the base64 MD5 of the raw key.
      DDB2S3_ASSIGN_OR_RETURN(const std::string key, string_value(value, name));
      options.set("x-amz-server-side-encryption-customer-key-MD5", content_md5(key));
      options.set("x-amz-server-side-encryption-customer-key", base64_encode(key));
      has_customer_key = true;
      continue;
    }
    if (name.starts_with("Checksum") || name == "MpuObjectSize") {
      return usage(name + " is not supported: ddb2s3 protects every upload with Content-MD5");
    }
    const ExtraArg* arg = nullptr;
    for (const ExtraArg& a : kStringArgs)
      if (a.name == name) arg = &a;
    if (arg == nullptr) return usage("unknown S3 upload argument '" + name + "'; known: " + known_names());
    DDB2S3_ASSIGN_OR_RETURN(std::string v, string_value(value, name));
    if (has_customer_key && name == "SSECustomerKeyMD5") continue;  // computed from the key, as botocore does
    DDB2S3_RETURN_IF_ERROR(set_checked(options, std::string(arg->header), std::move(v), name));
  }
  if (Status s = options.check(); !s) return usage(s.error().message);  // S3's size limit on metadata
  return options;
}

}  // namespace ddb2s3

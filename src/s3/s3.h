// S3 client on AwsClient: the REST-XML calls ddb2s3 needs (bucket check, single and multipart
// uploads, and Get/List/Delete for tests and verification), with S3's region redirects handled.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"
#include "aws/http.h"
#include "base/digest.h"
#include "base/result.h"

namespace ddb2s3 {

// Headers sent with an object's upload (PutObject, CreateMultipartUpload), as a plain list so that
// any header S3 accepts can be passed through; the setters are typed shortcuts for the common ones.
struct ObjectOptions {
  Headers headers;
  // PutObject: compute Content-MD5 of the body when the headers hold none (S3 then rejects a body
  // damaged in transit; Object Lock buckets require it).
  bool compute_content_md5 = true;

  ObjectOptions& set(std::string name, std::string value);  // replaces a header of the same name (any case)
  std::string_view get(std::string_view name) const;        // case-insensitive; empty when absent
  // A usage Error naming the first header that S3 could not be sent (check_object_header), or user
  // metadata over S3's 2 KB. Whoever fills headers from user input calls it there (the extra_args
  // reader does); the upload calls check again before sending.
  Status check() const;

  ObjectOptions& content_type(std::string v) { return set("Content-Type", std::move(v)); }
  ObjectOptions& content_md5(std::string base64) { return set("Content-MD5", std::move(base64)); }
  // "AES256", "aws:kms" or "aws:kms:dsse".
  ObjectOptions& server_side_encryption(std::string v) {
    return set("x-amz-server-side-encryption", std::move(v));
  }
  ObjectOptions& sse_kms_key_id(std::string v) {
    return set("x-amz-server-side-encryption-aws-kms-key-id", std::move(v));
  }
  ObjectOptions& storage_class(std::string v) { return set("x-amz-storage-class", std::move(v)); }
  ObjectOptions& acl(std::string v) { return set("x-amz-acl", std::move(v)); }
  ObjectOptions& expected_bucket_owner(std::string account_id) {
    return set("x-amz-expected-bucket-owner", std::move(account_id));
  }
  // URL-query form: "k1=v1&k2=v2" (values already URL-encoded).
  ObjectOptions& tagging(std::string v) { return set("x-amz-tagging", std::move(v)); }
  // User metadata: x-amz-meta-<name>.
  ObjectOptions& metadata(const std::string& name, std::string value) {
    return set("x-amz-meta-" + name, std::move(value));
  }
};

// One header of an object's upload, as S3 takes it: the name an HTTP token (for x-amz-meta-NAME, NAME not
// empty); the value without CR, LF or another control character (tab aside; UTF-8 is allowed, S3 stores
// non-ASCII metadata RFC 2047-encoded). A usage Error naming the header; a secret's value is not printed.
Status check_object_header(std::string_view name, std::string_view value);

// S3's limit on user metadata: the x-amz-meta- names (without the prefix) and values, in bytes.
inline constexpr size_t kMaxUserMetadataBytes = 2048;

// Maps boto3's upload ExtraArgs (a JSON object, e.g. {"ServerSideEncryption":"aws:kms",
// "Metadata":{"a":"b"}}) to headers, as boto3's S3Transfer sends them. An unknown name or a value of
// the wrong type is a usage Error that lists the known names; so is a name or value that cannot be a
// header (check_object_header). Errors name the JSON extra_args (their field).
Result<ObjectOptions> object_options_from_extra_args(std::string_view json);

// Base64 of the MD5 of data: the Content-MD5 header's value (base's md5_base64 under S3's name).
inline std::string content_md5(std::string_view data) { return md5_base64(data); }

// Where a bucket's requests go: virtual-hosted https://BUCKET.s3.REGION.amazonaws.com/KEY for AWS
// endpoints; path style ENDPOINT/BUCKET/KEY for custom endpoints, buckets whose names are not DNS
// labels (dots, upper case, underscores) and when config.s3_path_style is set. The key is encoded
// with uri_encode(key, keep_slash=true); an empty key addresses the bucket itself.
std::string s3_object_url(const ServiceConfig& config, std::string_view bucket, std::string_view key);

// True when endpoint is one of AWS's own S3 endpoints (s3.amazonaws.com, s3.REGION.amazonaws.com,
// s3-fips..., s3.dualstack..., and .amazonaws.com.cn), as opposed to one the user set.
bool is_aws_s3_endpoint(std::string_view endpoint);

// The endpoint that serves region: AWS endpoints get that region's host name; custom endpoints are
// returned unchanged (only the signing region changes for them).
std::string s3_endpoint_for_region(std::string_view endpoint, std::string_view region);

// Buckets' regions learned from redirects; thread-safe, may be shared by all clients of one side.
class BucketRegionCache {
 public:
  std::optional<std::string> get(std::string_view bucket) const;
  void put(std::string_view bucket, std::string region);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> regions_;
};

struct S3ClientOptions {
  // Sent as x-amz-expected-bucket-owner with every request (a request whose headers already carry
  // one keeps its own): S3 then refuses to act on a bucket of another account.
  std::string expected_bucket_owner;
  // Shared by the clients of one destination; each client makes its own when null.
  std::shared_ptr<BucketRegionCache> region_cache;
};

// Inclusive byte range of a GET; last absent: to the end of the object.
struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};

struct ObjectSummary {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without the surrounding quotes
};

struct ListPage {
  std::vector<ObjectSummary> objects;
  bool truncated = false;
  std::string next_continuation_token;  // set when truncated
};

// The ETag S3 gives an object made by a multipart upload: the hex MD5 of the parts' binary MD5s one after
// the other (16 bytes a part), '-', the number of parts ("9b2cf535f27731c974343645a3985328-3").
std::string multipart_etag(std::string_view part_md5s);

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // as UploadPart returned it
};

// Not thread-safe: one per worker thread (it owns that worker's connections). ETags are returned
// without their surrounding quotes. Every call's Error names the operation and s3://bucket[/key].
class S3Client {
 public:
  explicit S3Client(std::shared_ptr<const ServiceConfig> config, S3ClientOptions options = {});
  ~S3Client();
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Checks that the bucket exists and these credentials may use it; the errors say which it is.
  Status head_bucket(std::string_view bucket);
  // In the client's region (a LocationConstraint outside us-east-1).
  Status create_bucket(std::string_view bucket);
  Status delete_bucket(std::string_view bucket);

  // Conditional writes go through options' headers: If-None-Match: * (only when the key holds no object) and
  // If-Match: ETAG (only when the object is that one); a condition that does not hold is an Error with
  // http_status 412 and code PreconditionFailed (S3 may also answer 409 ConditionalRequestConflict).
  Result<std::string> put_object(std::string_view bucket, std::string_view key, std::string_view body,
                                 const ObjectOptions& options = {});

  // Returns the upload id. The options' headers are those of the object to be (as for put_object).
  Result<std::string> create_multipart_upload(std::string_view bucket, std::string_view key,
                                              const ObjectOptions& options = {});
  // part_number from 1 to 10000. content_md5 in base64; empty: computed here. Returns the part's ETag.
  // SSE-C and request-payer headers of options (which S3 wants on every part) are sent too.
  Result<std::string> upload_part(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                  int part_number, std::string_view body, std::string_view content_md5 = {},
                                  const ObjectOptions& options = {});
  // Parts in ascending part number. Returns the object's ETag. A 200 whose body is an <Error> is an
  // error (S3 reports late failures of the assembly that way).
  Result<std::string> complete_multipart_upload(std::string_view bucket, std::string_view key,
                                                std::string_view upload_id,
                                                const std::vector<CompletedPart>& parts);
  // NoSuchUpload counts as done: the upload is gone (an earlier attempt, whose answer was lost, aborted it).
  // A cleanup call (CallInfo::cleanup): still sent, briefly retried, after a cancel.
  Status abort_multipart_upload(std::string_view bucket, std::string_view key, std::string_view upload_id);

  // HeadObject: the object's size and ETag, or nullopt when there is none (404). The SSE-C and request-payer
  // headers of options are sent (S3 wants the key of an SSE-C object to answer).
  Result<std::optional<ObjectSummary>> head_object(std::string_view bucket, std::string_view key,
                                                   const ObjectOptions& options = {});

  // The object's bytes replace out's contents (out's capacity is reused).
  Status get_object(std::string_view bucket, std::string_view key, std::string& out,
                    std::optional<ByteRange> range = std::nullopt);
  // The whole object into out, with its size and ETag; nullopt (out empty) when the key holds none (404).
  Result<std::optional<ObjectSummary>> get_object_if_exists(std::string_view bucket, std::string_view key,
                                                            std::string& out);
  Status delete_object(std::string_view bucket, std::string_view key);

  // One page of ListObjectsV2; max_keys from 1 to 1000.
  Result<ListPage> list_objects_page(std::string_view bucket, std::string_view prefix,
                                     std::string_view continuation_token = {}, int max_keys = 1000);
  // Every object under prefix, page after page.
  Result<std::vector<ObjectSummary>> list_objects(std::string_view bucket, std::string_view prefix,
                                                  int max_keys_per_page = 1000);

  // The region requests for bucket are signed for: learned from a redirect, else the config's.
  std::string bucket_region(std::string_view bucket) const;
  const ServiceConfig& config() const { return *config_; }

 private:
  struct Request;
  AwsClient& client_for(const std::string& region);
  Status send(std::string_view bucket, Request& request, HttpResponse& response, const CallInfo& info);
  Status send_once(std::string_view bucket, const std::string& region, Request& request,
                   HttpResponse& response, const CallInfo& info);
  std::optional<std::string> redirect_region(std::string_view bucket, const std::string& region,
                                             const HttpResponse& response, const Error& error);

  std::shared_ptr<const ServiceConfig> config_;
  S3ClientOptions options_;
  // One AwsClient (and so one connection) per region this client has talked to; the config's first.
  std::map<std::string, std::unique_ptr<AwsClient>, std::less<>> clients_;
  HttpResponse response_;  // reused across calls
};

}  // namespace ddb2s3

// S3's XML answers through the public S3Client calls, over HTTP, against a loopback server whose answer
// is the input: ListObjectsV2 pages, CreateMultipartUpload's UploadId, CompleteMultipartUpload (a 200
// whose body is an <Error> included), UploadPart's ETag, HeadBucket, GetObject, PutObject, DeleteObject, and error bodies and
// region redirects (301/307/400 with x-amz-bucket-region or an <Error> naming the <Region>).
// Input: byte 0 picks the call, byte 1 the status, then optional header lines "name: value" and an empty
// line, then the body.
//
// Properties: nothing crashes or hangs (a redirect loop would hit libFuzzer's timeout); an accepted
// list page that is truncated has a continuation token; an error has a code or a message.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_client_config.h"
#include "fuzz_support.h"
#include "loopback_server.h"
#include "s3/s3.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddb2s3;
  if (size < 2) return 0;
  static fuzz::LoopbackServer server;
  static const auto config = fuzz::loopback_config("s3", server.url());
  // A client per input: the regions it learns from redirects would otherwise carry over to the next inputs.
  S3Client client(config);
  static constexpr int kStatuses[] = {200, 200, 200, 200, 301, 307, 400, 403, 404, 500, 503, 206};
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  auto [headers, body] = fuzz::headers_and_body(input);
  server.answer(kStatuses[data[1] % (sizeof kStatuses / sizeof kStatuses[0])], headers, std::move(body));

  auto check = [&](const Error& e) {
    if (e.code.empty() && e.message.empty()) fuzz::property_failed("an error with neither code nor message", input);
  };
  switch (data[0] % 8) {
    case 0: {
      auto page = client.list_objects_page("bucket", "prefix/", {}, 1000);
      if (!page) {
        check(page.error());
      } else if (page->truncated && page->next_continuation_token.empty()) {
        fuzz::property_failed("a truncated list page without a continuation token", input);
      }
      break;
    }
    case 1: {
      auto id = client.create_multipart_upload("bucket", "data/part.json.gz");
      if (!id) check(id.error());
      break;
    }
    case 2: {
      std::vector<CompletedPart> parts{{1, "etag1"}, {2, "etag2"}};
      auto etag = client.complete_multipart_upload("bucket", "data/part.json.gz", "upload-id", parts);
      if (!etag) check(etag.error());
      break;
    }
    case 3: {
      auto etag = client.upload_part("bucket", "data/part.json.gz", "upload-id", 1, "part bytes");
      if (!etag) check(etag.error());
      break;
    }
    case 4: {
      if (Status s = client.head_bucket("bucket"); !s) check(s.error());
      break;
    }
    case 5: {
      std::string out;
      if (Status s = client.get_object("bucket.with.dots", "manifest-summary.json", out); !s) check(s.error());
      break;
    }
    case 6: {
      auto etag = client.put_object("bucket", "key", "body");
      if (!etag) check(etag.error());
      break;
    }
    case 7: {
      // Not list_objects(): a fixed answer that is truncated would repeat its page forever.
      if (Status s = client.delete_object("bucket", "key"); !s) check(s.error());
      break;
    }
  }
  (void)client.bucket_region("bucket");
  return 0;
}

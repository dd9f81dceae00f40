// Compression of scan output (gzip via ISA-L, zstd, none) a page at a time, and MD5 of stored bytes.
//
// A data file is one Compressor "object": start_object(), add_page() per page of jsonl lines,
// finish_object(). Every add_page() flushes, so the bytes appended so far are exactly the file's bytes so far
// (the object roller can compare them with --file-size and the uploader can ship them as multipart parts).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace ddb2s3 {

enum class Compression { kNone, kGzip, kZstd };

// "gzip", "zstd" or "none" (the --compression values); anything else is a usage Error.
Result<Compression> parse_compression(std::string_view name);
// The inverse of parse_compression: "gzip", "zstd", "none".
std::string_view compression_name(Compression compression);
// What follows ".json" in a data file's name: ".gz", ".zst" or "".
std::string_view file_extension(Compression compression);

// Pass to Compressor::make for each codec's default (gzip 1, zstd 1: the best speed per ratio measured).
inline constexpr int kDefaultCompressionLevel = -1;

// One per stream of objects (one per segment worker); not thread-safe; reusable across objects.
class Compressor {
 public:
  // Levels: gzip 0-3 (ISA-L's range), zstd 1-19, none only kDefaultCompressionLevel; others are a usage
  // Error.
  static Result<std::unique_ptr<Compressor>> make(Compression compression,
                                                  int level = kDefaultCompressionLevel);
  virtual ~Compressor() = default;

  Compression compression() const { return compression_; }
  int level() const { return level_; }  // the resolved level (never kDefaultCompressionLevel except for none)

  // Begins a new object (a new gzip member / zstd frame), dropping any unfinished one. A Compressor
  // fresh from make() is already at the start of an object.
  virtual void start_object() = 0;
  // Compresses `lines` and flushes, APPENDING every byte this page adds to the object to `out` (whose
  // previous content and capacity are kept). An empty page appends nothing.
  virtual Status add_page(std::string_view lines, std::string& out) = 0;
  // Appends the object's trailer (gzip CRC and length, zstd end of frame). An object with no pages is
  // still a valid file that decompresses to nothing. Then start_object() before the next object.
  virtual Status finish_object(std::string& out) = 0;

 protected:
  Compressor(Compression compression, int level) : compression_(compression), level_(level) {}

 private:
  Compression compression_;
  int level_;
};

// MD5 over OpenSSL EVP (for the manifest's md5Checksum and each part's Content-MD5). Movable, not copyable.
class Md5 {
 public:
  // Fails only when OpenSSL refuses MD5 (e.g. a FIPS-only configuration).
  static Result<Md5> make();

  void update(std::string_view data);
  // The digest of everything since make()/reset(); does not reset, so it can be read and updated further.
  std::array<uint8_t, 16> digest() const;
  std::string base64_digest() const;  // as S3's Content-MD5 and DynamoDB export manifests write it
  std::string hex_digest() const;     // lower case, as S3 ETags of single-part uploads
  void reset();

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  explicit Md5(std::unique_ptr<evp_md_ctx_st, CtxFree> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

// Two MD5 digests of one byte stream at once (a whole object's and its current part's, for the manifest and
// Content-MD5): while both are at the same block offset the two dependency chains run interleaved on the
// same blocks, so both cost little more than one. Digest 1 can be restarted alone (at a part boundary).
class DualMd5 {
 public:
  DualMd5();
  void update(std::string_view data);               // into both
  std::array<uint8_t, 16> digest(int which) const;  // 0 or 1; does not reset
  std::string base64_digest(int which) const;
  void reset_second();

  struct State {
    uint32_t h[4];
    uint64_t length = 0;  // bytes so far
    uint8_t buffer[64];   // the partial block: length % 64 bytes
  };

 private:
  State s_[2];
};

}  // namespace ddb2s3

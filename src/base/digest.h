// Digests over OpenSSL EVP: MD5 (S3's Content-MD5, manifest checksums), SHA-1 (SSO cache names), SHA-256
// and HMAC-SHA256 (SigV4); and DualMd5, two MD5s of one stream in about the time of one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace ddb2s3 {

// Base64 of the MD5 of data: S3's Content-MD5 header and the export manifest's md5Checksum.
std::string md5_base64(std::string_view data);
// Lower-case hex SHA-1 of data.
std::string sha1_hex(std::string_view data);
// Lower-case hex SHA-256 of data (SigV4's payload hash).
std::string sha256_hex(std::string_view data);
// The raw 32-byte HMAC-SHA256 of data under key.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Frees an EVP_MD_CTX (for the classes below).
struct EvpMdCtxFree {
  void operator()(evp_md_ctx_st* ctx) const;
};

// SHA-256 and HMAC-SHA256 over one reused context, for callers that make many (the signer: five a request).
// Not thread-safe; movable.
class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;
  Sha256();
  // The digest of a followed by b.
  Digest digest(std::string_view a, std::string_view b = {});
  // RFC 2104 over SHA-256 (64-byte blocks); the key's copies are wiped.
  Digest hmac(std::string_view key, std::string_view data);

 private:
  std::unique_ptr<evp_md_ctx_st, EvpMdCtxFree> ctx_;
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
  explicit Md5(std::unique_ptr<evp_md_ctx_st, EvpMdCtxFree> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<evp_md_ctx_st, EvpMdCtxFree> ctx_;
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

#include "base/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "base/encoding.h"

namespace ddb2s3 {
namespace {

const EVP_MD* sha256_md() {
  // Fetched once: OpenSSL 3's implicit fetch on every EVP_sha256()/HMAC() call costs microseconds each.
  static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                                                  &EVP_MD_free);
  return md ? md.get() : EVP_sha256();
}

// The digest of data under md, encoded by encode (hex or base64).
template <class Encode>
std::string one_shot(std::string_view data, const EVP_MD* md, Encode encode) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return encode(out.data(), static_cast<size_t>(len));
}

}  // namespace

std::string md5_base64(std::string_view data) {
  return one_shot(data, EVP_md5(), [](const uint8_t* d, size_t n) { return base64_encode(d, n); });
}

std::string sha1_hex(std::string_view data) {
  return one_shot(data, EVP_sha1(), [](const uint8_t* d, size_t n) { return hex_encode(d, n); });
}

std::string sha256_hex(std::string_view data) {
  const Sha256::Digest d = Sha256().digest(data);
  return hex_encode(d.data(), d.size());
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  const Sha256::Digest d = Sha256().hmac(key, data);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

void EvpMdCtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

// --- Sha256 ---

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {}

Sha256::Digest Sha256::digest(std::string_view a, std::string_view b) {
  Digest out{};
  unsigned int len = 0;
  EVP_DigestInit_ex2(ctx_.get(), sha256_md(), nullptr);
  EVP_DigestUpdate(ctx_.get(), a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx_.get(), b.data(), b.size());
  EVP_DigestFinal_ex(ctx_.get(), out.data(), &len);
  return out;
}

Sha256::Digest Sha256::hmac(std::string_view key, std::string_view data) {
  std::array<char, 64> block{};
  if (key.size() > block.size()) {
    Digest hashed = digest(key);
    std::memcpy(block.data(), hashed.data(), hashed.size());
  } else {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<char, 64> pad;
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<char>(block[i] ^ 0x36);
  Digest inner = digest({pad.data(), pad.size()}, data);
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<char>(block[i] ^ 0x5c);
  Digest outer =
      digest({pad.data(), pad.size()}, {reinterpret_cast<const char*>(inner.data()), inner.size()});
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  return outer;
}

// --- Md5 ---

Result<Md5> Md5::make() {
  std::unique_ptr<evp_md_ctx_st, EvpMdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) {
    Error e = Error::internal("OpenSSL could not set up MD5");
    e.hint =
        "MD5 (for S3 Content-MD5 and manifest checksums) is unavailable in a FIPS-only OpenSSL configuration";
    return e;
  }
  return Md5(std::move(ctx));
}

void Md5::update(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

std::array<uint8_t, 16> Md5::digest() const {
  std::array<uint8_t, 16> md{};
  // Finalize a copy so that this one can go on; the copy of an initialised MD5 context cannot fail
  // short of running out of memory.
  std::unique_ptr<evp_md_ctx_st, EvpMdCtxFree> copy(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (copy && EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) == 1)
    EVP_DigestFinal_ex(copy.get(), md.data(), &len);
  return md;
}

std::string Md5::base64_digest() const {
  const auto md = digest();
  return base64_encode(md.data(), md.size());
}

std::string Md5::hex_digest() const {
  const auto md = digest();
  return hex_encode(md.data(), md.size());
}

void Md5::reset() { EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr); }

// --- DualMd5 (RFC 1321) ---

namespace {

constexpr uint32_t kMd5T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kMd5S[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
constexpr uint32_t kMd5Init[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

inline uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

// N independent states over the same blocks: the per-lane loops unroll into interleaved chains.
template <int N>
void md5_blocks(uint32_t* const (&h)[N], const uint8_t* p, size_t blocks) {
  for (; blocks > 0; --blocks, p += 64) {
    uint32_t m[16];
    std::memcpy(m, p, 64);  // MD5 is little-endian, as is every machine this builds for
    uint32_t a[N], b[N], c[N], d[N];
    for (int l = 0; l < N; ++l) a[l] = h[l][0], b[l] = h[l][1], c[l] = h[l][2], d[l] = h[l][3];
#pragma GCC unroll 64
    for (int i = 0; i < 64; ++i) {
      const int round = i / 16;
      const int k = round == 0   ? i
                    : round == 1 ? (5 * i + 1) % 16
                    : round == 2 ? (3 * i + 5) % 16
                                 : (7 * i) % 16;
      const int s = kMd5S[round][i % 4];
      for (int l = 0; l < N; ++l) {
        uint32_t f;
        if (round == 0)
          f = d[l] ^ (b[l] & (c[l] ^ d[l]));
        else if (round == 1)
          f = c[l] ^ (d[l] & (b[l] ^ c[l]));
        else if (round == 2)
          f = b[l] ^ c[l] ^ d[l];
        else
          f = c[l] ^ (b[l] | ~d[l]);
        const uint32_t t = d[l];
        d[l] = c[l];
        c[l] = b[l];
        b[l] = b[l] + rotl(a[l] + f + m[k] + kMd5T[i], s);
        a[l] = t;
      }
    }
    for (int l = 0; l < N; ++l) h[l][0] += a[l], h[l][1] += b[l], h[l][2] += c[l], h[l][3] += d[l];
  }
}

void md5_update(DualMd5::State& s, const uint8_t* p, size_t n) {
  size_t fill = s.length % 64;
  s.length += n;
  uint32_t* const h[1] = {s.h};
  if (fill > 0) {
    size_t take = std::min(n, 64 - fill);
    std::memcpy(s.buffer + fill, p, take);
    p += take;
    n -= take;
    if (fill + take < 64) return;
    md5_blocks<1>(h, s.buffer, 1);
  }
  md5_blocks<1>(h, p, n / 64);
  std::memcpy(s.buffer, p + n / 64 * 64, n % 64);
}

std::array<uint8_t, 16> md5_final(DualMd5::State s) {
  const uint64_t bits = s.length * 8;
  static constexpr uint8_t kPad[64] = {0x80};
  md5_update(s, kPad, 1 + (119 - s.length % 64) % 64);  // up to 56 mod 64
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (8 * i));
  md5_update(s, len, 8);
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), s.h, 16);
  return out;
}

void md5_init(DualMd5::State& s) {
  std::memcpy(s.h, kMd5Init, sizeof kMd5Init);
  s.length = 0;
}

}  // namespace

DualMd5::DualMd5() {
  md5_init(s_[0]);
  md5_init(s_[1]);
}

void DualMd5::reset_second() { md5_init(s_[1]); }

void DualMd5::update(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  if (s_[0].length % 64 != s_[1].length % 64) {  // a part started off a block boundary
    md5_update(s_[0], p, n);
    md5_update(s_[1], p, n);
    return;
  }
  // Same offset in a block, so the same partial bytes are buffered: finish that block in both, then run
  // both over the whole blocks together.
  size_t fill = s_[0].length % 64;
  if (fill > 0) {
    size_t take = std::min(n, 64 - fill);
    md5_update(s_[0], p, take);
    md5_update(s_[1], p, take);
    p += take;
    n -= take;
  }
  if (n >= 64) {
    uint32_t* const h[2] = {s_[0].h, s_[1].h};
    md5_blocks<2>(h, p, n / 64);
    s_[0].length += n / 64 * 64;
    s_[1].length += n / 64 * 64;
    p += n / 64 * 64;
    n %= 64;
  }
  md5_update(s_[0], p, n);
  md5_update(s_[1], p, n);
}

std::array<uint8_t, 16> DualMd5::digest(int which) const { return md5_final(s_[which]); }

std::string DualMd5::base64_digest(int which) const {
  const auto md = digest(which);
  return base64_encode(md.data(), md.size());
}

}  // namespace ddb2s3

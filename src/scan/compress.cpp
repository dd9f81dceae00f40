#include "scan/compress.h"

#include <isa-l.h>
#include <openssl/evp.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace ddb2s3 {

Result<Compression> parse_compression(std::string_view name) {
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "none") return Compression::kNone;
  return Error::usage("compression must be gzip, zstd or none, not '" + std::string(name) + "'")
      .with_field("compression");
}

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

std::string_view file_extension(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return ".gz";
    case Compression::kZstd:
      return ".zst";
    case Compression::kNone:
      break;
  }
  return "";
}

namespace {

constexpr size_t kMinSpare = 64 * 1024;

Error not_open() {
  return Error::internal("compressor used after finish_object() or a failure without start_object()");
}

// Makes `out` hold at least `want` writable bytes after `used`. std::string zero-fills what it grows;
// sizing to about half a page keeps that near 1% of the compression time.
void spare(std::string& out, size_t used, size_t want) {
  if (out.size() - used < want) out.resize(used + std::max(want, kMinSpare));
}

class NoneCompressor final : public Compressor {
 public:
  NoneCompressor() : Compressor(Compression::kNone, kDefaultCompressionLevel) {}
  void start_object() override { open_ = true; }
  Status add_page(std::string_view lines, std::string& out) override {
    if (!open_) return not_open();
    out.append(lines);
    return {};
  }
  Status finish_object(std::string&) override {
    if (!open_) return not_open();
    open_ = false;
    return {};
  }

 private:
  bool open_ = true;
};

// One gzip member per object, SYNC_FLUSH at each page end: measured on synthetic jsonl, a member per page
// (stateful or isal_deflate_stateless) costs the same CPU and 0.15% more bytes, and one member is what
// every gzip reader handles (some read only the first member of a concatenation).
class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(int level)
      : Compressor(Compression::kGzip, level),
        stream_(std::make_unique<isal_zstream>()),  // ~80 KiB of state: heap, not stack
        level_buf_size_(level_buf_size(level)),
        level_buf_(level_buf_size_ ? std::make_unique_for_overwrite<uint8_t[]>(level_buf_size_) : nullptr) {
    isal_deflate_init(stream_.get());
    configure();
  }

  void start_object() override {
    isal_deflate_reset(stream_.get());
    configure();  // reset leaves gzip_flag at IGZIP_GZIP_NO_HDR after a member: without this, no header
    open_ = true;
  }

  Status add_page(std::string_view lines, std::string& out) override {
    if (!open_) return not_open();
    isal_zstream& s = *stream_;
    const size_t start = out.size();
    size_t used = start;
    const auto* in = reinterpret_cast<const uint8_t*>(lines.data());
    size_t left = lines.size();
    while (left > 0) {
      const uint32_t chunk = static_cast<uint32_t>(std::min<size_t>(left, kMaxChunk));  // avail_in is 32-bit
      s.next_in = const_cast<uint8_t*>(in);
      s.avail_in = chunk;
      do {
        spare(out, used, s.avail_in / 2 + 1024);
        auto* base = reinterpret_cast<uint8_t*>(out.data());
        s.next_out = base + used;
        s.avail_out = static_cast<uint32_t>(std::min<size_t>(out.size() - used, kMaxChunk));
        const int rc = isal_deflate(&s);
        used = static_cast<size_t>(s.next_out - base);
        if (rc != COMP_OK) return fail(out, start, rc);
        // Done when all input is taken and output room is left over (ISA-L's sign that the flush is
        // complete).
      } while (s.avail_in > 0 || s.avail_out == 0);
      in += chunk;
      left -= chunk;
    }
    out.resize(used);
    return {};
  }

  Status finish_object(std::string& out) override {
    if (!open_) return not_open();
    isal_zstream& s = *stream_;
    const size_t start = out.size();
    size_t used = start;
    static const uint8_t kNothing = 0;
    s.next_in = const_cast<uint8_t*>(&kNothing);
    s.avail_in = 0;
    s.end_of_stream = 1;
    // Header (when there were no pages), final block and trailer are a few dozen bytes; loop for safety.
    for (int round = 0; s.internal_state.state != ZSTATE_END; ++round) {
      if (round == 16) return fail(out, start, ISAL_INVALID_STATE);
      spare(out, used, 1024);
      auto* base = reinterpret_cast<uint8_t*>(out.data());
      s.next_out = base + used;
      s.avail_out = static_cast<uint32_t>(std::min<size_t>(out.size() - used, kMaxChunk));
      const int rc = isal_deflate(&s);
      used = static_cast<size_t>(s.next_out - base);
      if (rc != COMP_OK) return fail(out, start, rc);
    }
    out.resize(used);
    open_ = false;
    return {};
  }

 private:
  static constexpr size_t kMaxChunk = size_t{1} << 30;

  static uint32_t level_buf_size(int level) {
    switch (level) {
      case 1:
        return ISAL_DEF_LVL1_DEFAULT;
      case 2:
        return ISAL_DEF_LVL2_DEFAULT;
      case 3:
        return ISAL_DEF_LVL3_DEFAULT;
      default:
        return 0;  // level 0 works in the stream's own state
    }
  }

  void configure() {
    isal_zstream& s = *stream_;
    s.level = static_cast<uint32_t>(level());
    s.level_buf = level_buf_.get();
    s.level_buf_size = level_buf_size_;
    s.gzip_flag = IGZIP_GZIP;
    s.flush = SYNC_FLUSH;
    s.end_of_stream = 0;
    s.hist_bits = 0;
  }

  Status fail(std::string& out, size_t start, int rc) {
    out.resize(start);
    open_ = false;
    return Error::internal("ISA-L deflate failed with code " + std::to_string(rc));
  }

  std::unique_ptr<isal_zstream> stream_;
  uint32_t level_buf_size_;
  std::unique_ptr<uint8_t[]> level_buf_;
  bool open_ = true;
};

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
using ZstdCCtx = std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree>;

// One zstd frame per object, ZSTD_e_flush at each page end, with the frame checksum (as the zstd CLI writes).
class ZstdCompressor final : public Compressor {
 public:
  ZstdCompressor(int level, ZstdCCtx ctx) : Compressor(Compression::kZstd, level), ctx_(std::move(ctx)) {}

  static Result<std::unique_ptr<Compressor>> make(int level) {
    ZstdCCtx ctx(ZSTD_createCCtx());
    if (!ctx) return Error::internal("ZSTD_createCCtx failed");
    size_t rc = ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc)) return Error::internal(std::string("zstd set-up failed: ") + ZSTD_getErrorName(rc));
    return std::unique_ptr<Compressor>(std::make_unique<ZstdCompressor>(level, std::move(ctx)));
  }

  void start_object() override {
    ZSTD_CCtx_reset(ctx_.get(), ZSTD_reset_session_only);
    open_ = true;
  }

  Status add_page(std::string_view lines, std::string& out) override {
    if (!open_) return not_open();
    if (lines.empty()) return {};  // ZSTD_e_flush with nothing pending would still write an empty block
    return run(lines, ZSTD_e_flush, out);
  }

  Status finish_object(std::string& out) override {
    if (!open_) return not_open();
    Status st = run({}, ZSTD_e_end, out);
    open_ = false;
    return st;
  }

 private:
  Status run(std::string_view lines, ZSTD_EndDirective mode, std::string& out) {
    const size_t start = out.size();
    size_t used = start;
    ZSTD_inBuffer in{lines.data(), lines.size(), 0};
    size_t pending = 0;
    do {
      spare(out, used, (in.size - in.pos) / 2 + 1024);
      ZSTD_outBuffer o{out.data(), out.size(), used};
      pending = ZSTD_compressStream2(ctx_.get(), &o, &in, mode);
      used = o.pos;
      if (ZSTD_isError(pending)) {
        out.resize(start);
        open_ = false;
        return Error::internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(pending));
      }
    } while (pending != 0 || in.pos < in.size);  // 0: input taken and everything flushed
    out.resize(used);
    return {};
  }

  ZstdCCtx ctx_;
  bool open_ = true;
};

}  // namespace

Result<std::unique_ptr<Compressor>> Compressor::make(Compression compression, int level) {
  switch (compression) {
    case Compression::kNone:
      if (level != kDefaultCompressionLevel)
        return Error::usage("compression_level does not apply to compression none")
            .with_field("compression_level");
      return std::unique_ptr<Compressor>(std::make_unique<NoneCompressor>());
    case Compression::kGzip:
      if (level == kDefaultCompressionLevel) level = 1;  // ISA-L 1: zlib 1's ratio at ~4x its speed
      if (level < ISAL_DEF_MIN_LEVEL || level > ISAL_DEF_MAX_LEVEL) {
        Error e = Error::usage("compression_level " + std::to_string(level) + " is out of range for gzip")
                      .with_field("compression_level");
        e.hint =
            "ISA-L gzip levels are 0 to 3 (1 is the default; 3 compresses ~3% smaller at ~60% of the speed)";
        return e;
      }
      return std::unique_ptr<Compressor>(std::make_unique<GzipCompressor>(level));
    case Compression::kZstd:
      if (level == kDefaultCompressionLevel) level = 1;  // 3 is ~1.6% smaller for ~1.8x the CPU
      if (level < 1 || level > 19) {
        Error e = Error::usage("compression_level " + std::to_string(level) + " is out of range for zstd")
                      .with_field("compression_level");
        e.hint = "zstd levels are 1 to 19 (1 is the default)";
        return e;
      }
      return ZstdCompressor::make(level);
  }
  return Error::internal("unknown Compression value");
}

// --- Md5 ---

void Md5::CtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Result<Md5> Md5::make() {
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx(EVP_MD_CTX_new());
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
  std::unique_ptr<evp_md_ctx_st, CtxFree> copy(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (copy && EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) == 1)
    EVP_DigestFinal_ex(copy.get(), md.data(), &len);
  return md;
}

std::string Md5::base64_digest() const {
  const auto md = digest();
  unsigned char b64[25];  // 4 * ceil(16 / 3) + NUL
  const int n = EVP_EncodeBlock(b64, md.data(), static_cast<int>(md.size()));
  return std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(n));
}

std::string Md5::hex_digest() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(32);
  for (uint8_t b : digest()) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
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
  unsigned char b64[25];
  const int n = EVP_EncodeBlock(b64, md.data(), static_cast<int>(md.size()));
  return std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(n));
}

}  // namespace ddb2s3

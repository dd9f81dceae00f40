// Compression of scan output a page at a time: the gzip (ISA-L), zstd and pass-through Compressors.
#include "scan/compress.h"

#include <isa-l.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace ddb2s3 {

namespace {

// Each compression's name (as options and manifests spell it) and data-file extension.
struct CompressionName {
  Compression compression;
  std::string_view name;
  std::string_view extension;
};
constexpr CompressionName kCompressions[] = {
    {Compression::kGzip, "gzip", ".gz"},
    {Compression::kZstd, "zstd", ".zst"},
    {Compression::kNone, "none", ""},
};

const CompressionName& names_of(Compression compression) {
  for (const CompressionName& c : kCompressions)
    if (c.compression == compression) return c;
  return kCompressions[2];
}

}  // namespace

Result<Compression> parse_compression(std::string_view name) {
  for (const CompressionName& c : kCompressions)
    if (c.name == name) return c.compression;
  return Error::usage("compression must be gzip, zstd or none, not '" + std::string(name) + "'")
      .with_field("compression");
}

std::string_view compression_name(Compression compression) { return names_of(compression).name; }

std::string_view file_extension(Compression compression) { return names_of(compression).extension; }

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
        if (const int rc = deflate_into(out, used, s.avail_in / 2 + 1024); rc != COMP_OK)
          return fail(out, start, rc);
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
      if (const int rc = deflate_into(out, used, 1024); rc != COMP_OK) return fail(out, start, rc);
    }
    out.resize(used);
    open_ = false;
    return {};
  }

 private:
  // One isal_deflate call into out past `used`, with at least `room` bytes free there; advances used.
  int deflate_into(std::string& out, size_t& used, size_t room) {
    isal_zstream& s = *stream_;
    spare(out, used, room);
    auto* base = reinterpret_cast<uint8_t*>(out.data());
    s.next_out = base + used;
    s.avail_out = static_cast<uint32_t>(std::min<size_t>(out.size() - used, kMaxChunk));
    const int rc = isal_deflate(&s);
    used = static_cast<size_t>(s.next_out - base);
    return rc;
  }
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

namespace {

Error corrupt(std::string_view format, const std::string& why) {
  return Error::make(ErrorKind::kClient, "DecompressionFailed",
                     "not a valid " + std::string(format) + " stream: " + why);
}

class NoneDecompressor final : public Decompressor {
 public:
  void start() override {}
  Status add(std::string_view chunk, const Output& output) override {
    while (!chunk.empty()) {
      const size_t n = std::min(chunk.size(), kDecompressedBlock);
      DDB2S3_RETURN_IF_ERROR(output(chunk.substr(0, n)));
      chunk.remove_prefix(n);
    }
    return {};
  }
  Status finish() override { return {}; }
};

// A gzip member's header (RFC 1952), read a byte at a time so that its verdict cannot depend on how the
// file is cut: ISA-L's own header reader reads state it never set when a header with a file name comes in
// pieces (a fuzz finding), so ISA-L is given the deflate data and the trailer only.
class GzipHeaderReader {
 public:
  void reset() { *this = GzipHeaderReader(); }
  bool done() const { return stage_ == Stage::kDone; }

  // Takes header bytes from the front of `in` (all of them, or up to the header's end). An error for a header
  // that gzip(1) refuses too: wrong magic, a method other than deflate, reserved flag bits, a bad header CRC.
  Status take(std::string_view& in) {
    while (!in.empty() && stage_ != Stage::kDone) {
      const uint8_t byte = static_cast<uint8_t>(in.front());
      if (stage_ == Stage::kHeaderCrc) {
        crc_bytes_[count_++] = byte;
        in.remove_prefix(1);
        if (count_ == 2) {
          if ((crc_ & 0xffffu) != static_cast<uint32_t>(crc_bytes_[0] | (crc_bytes_[1] << 8)))
            return corrupt("gzip", "the gzip header's CRC does not match the header");
          stage_ = Stage::kDone;
        }
        continue;
      }
      crc_ = crc32_gzip_refl(crc_, &byte, 1);
      in.remove_prefix(1);
      DDB2S3_RETURN_IF_ERROR(step(byte));
    }
    return {};
  }

 private:
  enum class Stage { kFixed, kExtraLength, kExtra, kName, kComment, kHeaderCrc, kDone };
  static constexpr uint8_t kHeaderCrcFlag = 2, kExtraFlag = 4, kNameFlag = 8, kCommentFlag = 16;

  Status step(uint8_t byte) {
    switch (stage_) {
      case Stage::kFixed:
        if ((count_ == 0 && byte != 0x1f) || (count_ == 1 && byte != 0x8b))
          return corrupt("gzip", "an invalid gzip header (no gzip magic number)");
        if (count_ == 2 && byte != 8) return corrupt("gzip", "an unsupported compression method");
        if (count_ == 3) {
          if (byte & 0xe0) return corrupt("gzip", "an invalid gzip header (reserved flag bits are set)");
          flags_ = byte;
        }
        if (++count_ == 10) next_after(Stage::kFixed);
        return {};
      case Stage::kExtraLength:
        extra_left_ |= static_cast<uint32_t>(byte) << (8 * count_);
        if (++count_ == 2) next_after(Stage::kExtraLength);
        return {};
      case Stage::kExtra:
        if (--extra_left_ == 0) next_after(Stage::kExtra);
        return {};
      case Stage::kName:
      case Stage::kComment:
        if (byte == 0) next_after(stage_);
        return {};
      default:
        return {};
    }
  }

  // The stage after `from`, skipping the fields the flags leave out.
  void next_after(Stage from) {
    count_ = 0;
    if (from == Stage::kFixed && (flags_ & kExtraFlag)) return void(stage_ = Stage::kExtraLength);
    if (from == Stage::kExtraLength && extra_left_ > 0) return void(stage_ = Stage::kExtra);
    if (from < Stage::kName && (flags_ & kNameFlag)) return void(stage_ = Stage::kName);
    if (from < Stage::kComment && (flags_ & kCommentFlag)) return void(stage_ = Stage::kComment);
    if (from < Stage::kHeaderCrc && (flags_ & kHeaderCrcFlag)) return void(stage_ = Stage::kHeaderCrc);
    stage_ = Stage::kDone;
  }

  Stage stage_ = Stage::kFixed;
  uint32_t count_ = 0;
  uint8_t flags_ = 0;
  uint32_t extra_left_ = 0;
  uint32_t crc_ = 0;
  uint8_t crc_bytes_[2] = {0, 0};
};

// ISA-L inflate (several times zlib's speed), gzip members one after the other, each's trailer checked.
class GzipDecompressor final : public Decompressor {
 public:
  GzipDecompressor() : state_(std::make_unique<inflate_state>()), block_(kDecompressedBlock, '\0') {
    start();
  }

  void start() override {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP_NO_HDR_VER;
    header_.reset();
    in_member_ = false;
    seen_member_ = false;
  }

  Status add(std::string_view chunk, const Output& output) override {
    inflate_state& s = *state_;
    while (!chunk.empty()) {
      if (!in_member_) {  // a member begins: a fresh state (ISA-L ends at one member's trailer)
        isal_inflate_reset(&s);
        s.crc_flag = ISAL_GZIP_NO_HDR_VER;
        header_.reset();
        in_member_ = true;
        seen_member_ = true;
      }
      if (!header_.done()) {
        DDB2S3_RETURN_IF_ERROR(header_.take(chunk));
        if (chunk.empty()) break;
      }
      const uint32_t take = static_cast<uint32_t>(std::min<size_t>(chunk.size(), 1u << 30));
      s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(chunk.data()));
      s.avail_in = take;
      do {
        s.next_out = reinterpret_cast<uint8_t*>(block_.data());
        s.avail_out = static_cast<uint32_t>(block_.size());
        const int rc = isal_inflate(&s);
        if (rc < 0) return corrupt("gzip", error_name(rc));
        const size_t produced = block_.size() - s.avail_out;
        if (produced > 0) DDB2S3_RETURN_IF_ERROR(output(std::string_view(block_.data(), produced)));
        if (s.block_state == ISAL_BLOCK_FINISH) {
          in_member_ = false;
          break;
        }
      } while (s.avail_in > 0 || s.avail_out == 0);
      chunk.remove_prefix(take - s.avail_in);
    }
    return {};
  }

  Status finish() override {
    if (!seen_member_) return corrupt("gzip", "the file is empty");
    if (in_member_) return corrupt("gzip", "the stream ends part way (the file is truncated)");
    return {};
  }

 private:
  static std::string error_name(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK:
        return "an invalid deflate block";
      case ISAL_INVALID_SYMBOL:
        return "an invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK:
        return "an invalid back reference";
      case ISAL_INVALID_WRAPPER:
        return "an invalid gzip header";
      case ISAL_UNSUPPORTED_METHOD:
        return "an unsupported compression method";
      case ISAL_INCORRECT_CHECKSUM:
        return "the CRC-32 or length in the gzip trailer does not match the data";
      default:
        return "ISA-L inflate error " + std::to_string(rc);
    }
  }

  std::unique_ptr<inflate_state> state_;  // ~40 KiB: heap, not stack
  std::string block_;
  GzipHeaderReader header_;
  bool in_member_ = false;
  bool seen_member_ = false;
};

struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

// Frames are checked to start with the zstd magic number (or a skippable frame's) before libzstd sees them:
// Debian's libzstd also decodes legacy (v0.x) frames, and only when their header comes in one piece, so
// that a file's verdict would depend on how it is cut into chunks (a fuzz finding).
class ZstdDecompressor final : public Decompressor {
 public:
  explicit ZstdDecompressor(std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> ctx)
      : ctx_(std::move(ctx)), block_(kDecompressedBlock, '\0') {}

  void start() override {
    ZSTD_DCtx_reset(ctx_.get(), ZSTD_reset_session_only);
    frame_start_ = true;
    magic_.clear();
    seen_ = false;
  }

  Status add(std::string_view chunk, const Output& output) override {
    if (!chunk.empty()) seen_ = true;
    while (!chunk.empty()) {
      if (frame_start_) {
        const size_t take = std::min(kMagicSize - magic_.size(), chunk.size());
        magic_.append(chunk.substr(0, take));
        chunk.remove_prefix(take);
        if (magic_.size() < kMagicSize) return {};
        if (!known_magic(magic_)) return corrupt("zstd", "a frame does not start with zstd's magic number");
        frame_start_ = false;
        DDB2S3_ASSIGN_OR_RETURN(size_t used, feed(magic_, output));
        (void)used;  // a frame never ends within its magic number
        magic_.clear();
        continue;
      }
      DDB2S3_ASSIGN_OR_RETURN(size_t used, feed(chunk, output));
      chunk.remove_prefix(used);
    }
    return {};
  }

  Status finish() override {
    if (!seen_) return corrupt("zstd", "the file is empty");
    if (!frame_start_ || !magic_.empty())
      return corrupt("zstd", "the stream ends part way (the file is truncated)");
    return {};
  }

 private:
  static constexpr size_t kMagicSize = 4;

  // ZSTD_MAGICNUMBER (28 b5 2f fd), or a skippable frame's (5? 2a 4d 18), as bytes in the file.
  static bool known_magic(std::string_view m) {
    const auto b = [&](size_t i) { return static_cast<unsigned char>(m[i]); };
    if (b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd) return true;
    return (b(0) & 0xf0) == 0x50 && b(1) == 0x2a && b(2) == 0x4d && b(3) == 0x18;
  }

  // Decompresses from `in` until it is used up or the frame ends (then the next bytes start a frame);
  // returns how many bytes were used.
  Result<size_t> feed(std::string_view bytes, const Output& output) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (true) {
      ZSTD_outBuffer out{block_.data(), block_.size(), 0};
      const size_t rc = ZSTD_decompressStream(ctx_.get(), &out, &in);
      if (ZSTD_isError(rc)) return corrupt("zstd", ZSTD_getErrorName(rc));
      if (out.pos > 0) DDB2S3_RETURN_IF_ERROR(output(std::string_view(block_.data(), out.pos)));
      if (rc == 0) {  // the frame is complete and flushed
        frame_start_ = true;
        return in.pos;
      }
      if (out.pos < out.size && in.pos == in.size) return in.pos;  // all taken, nothing more to flush
    }
  }

  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> ctx_;
  std::string block_;
  std::string magic_;  // the first bytes of the next frame, until there are kMagicSize
  bool frame_start_ = true;
  bool seen_ = false;
};

}  // namespace

Result<std::unique_ptr<Decompressor>> Decompressor::make(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return std::unique_ptr<Decompressor>(std::make_unique<NoneDecompressor>());
    case Compression::kGzip:
      return std::unique_ptr<Decompressor>(std::make_unique<GzipDecompressor>());
    case Compression::kZstd: {
      std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> ctx(ZSTD_createDCtx());
      if (!ctx) return Error::internal("ZSTD_createDCtx failed");
      return std::unique_ptr<Decompressor>(std::make_unique<ZstdDecompressor>(std::move(ctx)));
    }
  }
  return Error::internal("unknown Compression value");
}

}  // namespace ddb2s3

// Compression of scan output (gzip via ISA-L, zstd, none) a page at a time.
//
// A data file is one Compressor "object": start_object(), add_page() per page of jsonl lines,
// finish_object(). Every add_page() flushes, so the bytes appended so far are exactly the file's bytes so far
// (the object roller can compare them with --file-size and the uploader can ship them as multipart parts).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

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

// The inverse, streaming: a data file's bytes in chunks of any size, its decompressed bytes handed to a
// callback in blocks of at most kDecompressedBlock, so memory stays flat however large the file. Checks what
// the format checks (gzip: CRC-32 and length of every member; zstd: the frame checksum when present) and
// that the stream ends complete. One per thread; reusable after start().
class Decompressor {
 public:
  static constexpr size_t kDecompressedBlock = 256 * 1024;
  using Output = std::function<Status(std::string_view)>;

  static Result<std::unique_ptr<Decompressor>> make(Compression compression);
  virtual ~Decompressor() = default;

  // Begins a new file.
  virtual void start() = 0;
  // Decompresses the next chunk of the file, passing what comes out to output (whose Error stops it). An
  // Error says why the bytes are not a valid stream of the format.
  virtual Status add(std::string_view chunk, const Output& output) = 0;
  // The file's end: an Error when the stream stopped part way (a truncated file).
  virtual Status finish() = 0;
};

}  // namespace ddb2s3

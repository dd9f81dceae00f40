// What `verify` and `finalize` read back from a destination, which anyone with write access to the bucket
// may have changed: the manifests (src/scan/manifest.h) and the data files' compressed streams
// (Decompressor, src/scan/compress.h). The first byte picks the reader (low 3 bits) and, for the
// decompressors, how the input is cut into chunks (the high bits); the rest is the file.
//
// Properties:
// - an error has a message; nothing throws or overflows;
// - an accepted segment manifest, written again (segment_manifest_json), reads back to the same record
//   (counts, files and their keys);
// - accepted manifest-files.json lines, written again (manifest_files_json), read back to the same entries;
// - a decompressor gives the same verdict and the same bytes whether the file comes in one chunk or in many,
//   hands out blocks of at most kDecompressedBlock, and stops where its callback says (a bound of 64 MiB
//   keeps bombs out of the fuzzer's memory).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "scan/compress.h"
#include "scan/manifest.h"

namespace {

using namespace ddb2s3;

void check_error(const Error& e, std::string_view input) {
  if (e.message.empty() && e.code.empty()) fuzz::property_failed("an error with neither code nor message", input);
}

void segment_manifest(std::string_view input) {
  auto r = parse_segment_manifest(input, "segments/0.json");
  if (!r) return check_error(r.error(), input);
  auto again = parse_segment_manifest(segment_manifest_json(*r), "again");
  if (!again) fuzz::property_failed("a segment manifest written again does not read back", input);
  if (again->item_count != r->item_count || again->scanned_count != r->scanned_count ||
      again->segment != r->segment || again->total_segments != r->total_segments ||
      again->files.size() != r->files.size())
    fuzz::property_failed("a segment manifest written again reads back different", input);
  for (size_t i = 0; i < r->files.size(); ++i) {
    if (again->files[i].object.key != r->files[i].object.key || again->files[i].item_count != r->files[i].item_count)
      fuzz::property_failed("a data file of a segment manifest reads back different", input);
  }
}

void summary(std::string_view input) {
  auto r = parse_manifest_summary(input, "manifest-summary.json");
  if (!r) return check_error(r.error(), input);
  if (r->run.run_id.empty() || r->manifest_files_key.empty())
    fuzz::property_failed("an accepted summary without runId or manifestFilesS3Key", input);
}

void files(std::string_view input) {
  auto r = parse_manifest_files(input, "manifest-files.json");
  if (!r) return check_error(r.error(), input);
  std::vector<DataFile> list;
  for (const auto& e : *r) {
    if (e.file.object.key.empty()) fuzz::property_failed("an accepted line without dataFileS3Key", input);
    list.push_back(e.file);
  }
  auto again = parse_manifest_files(manifest_files_json(list), "again");
  if (!again || again->size() != r->size())
    fuzz::property_failed("manifest-files.json written again does not read back", input);
  for (size_t i = 0; i < r->size(); ++i) {
    const DataFile& a = (*r)[i].file;
    const DataFile& b = (*again)[i].file;
    if (a.object.key != b.object.key || a.item_count != b.item_count || a.object.md5_base64 != b.object.md5_base64 ||
        a.object.etag != b.object.etag || ((*r)[i].size_recorded && a.object.size != b.object.size))
      fuzz::property_failed("a line of manifest-files.json reads back different", input);
  }
}

struct Decoded {
  bool ok = false;
  std::string bytes;
};

Decoded decompress(Decompressor& d, std::string_view input, size_t chunk) {
  constexpr size_t kBound = 64u << 20;
  Decoded out;
  d.start();
  auto sink = [&](std::string_view block) -> Status {
    if (block.size() > Decompressor::kDecompressedBlock) fuzz::property_failed("a block over kDecompressedBlock", input);
    if (out.bytes.size() + block.size() > kBound) return Error::make(ErrorKind::kInternal, "Bound", "64 MiB");
    out.bytes.append(block);
    return {};
  };
  for (size_t at = 0; at < input.size(); at += chunk) {
    Status s = d.add(input.substr(at, chunk), sink);
    if (!s) {
      check_error(s.error(), input);
      return out;
    }
  }
  Status s = d.finish();
  if (!s) {
    check_error(s.error(), input);
    return out;
  }
  out.ok = true;
  return out;
}

void stream(Compression compression, std::string_view input, uint8_t cut) {
  static auto gzip = Decompressor::make(Compression::kGzip);
  static auto zstd = Decompressor::make(Compression::kZstd);
  auto& made = compression == Compression::kGzip ? gzip : zstd;
  if (!made) fuzz::property_failed("no decompressor", input);
  Decompressor& d = **made;
  const Decoded whole = decompress(d, input, input.size() + 1);
  const Decoded pieces = decompress(d, input, 1 + cut % 64);  // the same object reused: start() resets it
  if (whole.ok != pieces.ok) fuzz::property_failed("the verdict depends on how the file is cut", input);
  if (whole.ok && whole.bytes != pieces.bytes) fuzz::property_failed("the bytes depend on how the file is cut", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] & 7) {
    case 0: case 5: segment_manifest(input); break;
    case 1: case 6: summary(input); break;
    case 2: case 7: files(input); break;
    case 3: stream(Compression::kGzip, input, static_cast<uint8_t>(data[0] >> 3)); break;
    case 4: stream(Compression::kZstd, input, static_cast<uint8_t>(data[0] >> 3)); break;
  }
  return 0;
}

// Where output objects go: S3 (streaming multipart) or a local directory with the same layout.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"
#include "base/result.h"
#include "s3/s3.h"

namespace ddb2s3 {

// DEST on the command line: s3://BUCKET[/PREFIX] or a local directory.
struct Destination {
  bool is_s3 = false;
  std::string bucket;     // S3 only
  std::string prefix;     // S3: key prefix without leading/trailing '/', may be empty
  std::string directory;  // local only: the directory path as given (no trailing '/')

  static Result<Destination> parse(std::string_view text);
  // Joins the prefix (or nothing) with a relative key: "PREFIX/rel" or "rel".
  std::string key(std::string_view relative) const;
  // For messages: s3://bucket/key or the local path.
  std::string describe(std::string_view key) const;
};

// What a finished object is, as the manifests record it.
struct StoredObject {
  std::string key;         // S3 key, or the path relative to the destination directory
  uint64_t size = 0;       // bytes as stored
  std::string md5_base64;  // MD5 of the stored bytes (the native export's md5Checksum)
  std::string etag;        // S3 ETag without quotes; for local files the hex MD5
};

// One object being written. Destroyed without finish(): aborted (multipart upload aborted, partial file
// removed).
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  // Appends bytes; may block while too many parts are in flight (back-pressure keeps memory flat).
  virtual Status write(std::string_view bytes) = 0;
  virtual Result<StoredObject> finish() = 0;
  virtual void abort() = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Up front, before any data moves: the bucket is reachable (HeadBucket) / the directory can be made.
  virtual Status check() = 0;
  // Thread-safe. key is the full key (Destination::key applied).
  virtual Result<std::unique_ptr<ObjectWriter>> open(const std::string& key) = 0;
  // A small object in one request (manifests).
  virtual Result<StoredObject> put(const std::string& key, std::string_view bytes,
                                   std::string_view content_type) = 0;
  // A small object's content, or nullopt when it does not exist.
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  // Keys under a prefix (full keys), sorted.
  virtual Result<std::vector<std::string>> list(const std::string& prefix) = 0;
  // The objects under a prefix, sorted by key, with their sizes and ETags (S3: as listed; a directory: every
  // regular file, `.partial` ones too, its size from stat and as ETag the hex MD5 of its bytes, as written).
  virtual Result<std::vector<ObjectSummary>> list_objects(const std::string& prefix) = 0;
  // Bytes [offset, offset + length) of an object, replacing out's contents (its capacity is reused); fewer
  // at the object's end. An object that does not exist is an error.
  virtual Status read(const std::string& key, uint64_t offset, uint64_t length, std::string& out) = 0;
  // Removes an object; done too when it does not exist. Directory: also its NAME.partial, if any.
  virtual Status remove(const std::string& key) = 0;
  // Keys under a prefix of objects that a killed process left half-written (sorted), for remove(): the
  // directory's NAME.partial files. S3: none (an open multipart upload is not an object; a bucket lifecycle
  // rule, AbortIncompleteMultipartUpload, ends those).
  virtual Result<std::vector<std::string>> list_unfinished(const std::string& prefix) = 0;
  virtual std::string describe(std::string_view key) const = 0;
};

// The local-directory sink: files are written under the directory with the same layout as S3 keys.
std::unique_ptr<Sink> make_directory_sink(const Destination& dest);

// The S3 sink's knobs. Memory held by uploads is about (max_parts_in_flight + open writers) * part_size.
struct S3SinkOptions {
  // Headers of every object, manifests too (SSE, storage class, ACL, metadata...).
  ObjectOptions object_options;
  std::string expected_bucket_owner;  // sent with every request when set
  uint64_t part_size = 8ull << 20;  // >= 5 MiB; doubled every 1000 parts so that 10000 parts hold any object
  int upload_threads = 4;           // uploader threads, each with its own connection
  int max_parts_in_flight = 8;      // queued or uploading, across all writers; write() waits beyond it
};

// The S3 sink: objects smaller than part_size go in one PutObject, larger ones in a multipart upload whose
// parts are sent by the sink's uploader threads while the writer goes on. Usage errors for bad options.
// The size of part part_number (1..10000) of a multipart upload whose first part is base bytes: base,
// doubled every 1000 parts (as ClickHouse grows its parts), at most S3's 5 GiB.
uint64_t s3_part_size(uint64_t base, int part_number);

Result<std::unique_ptr<Sink>> make_s3_sink(std::shared_ptr<const ServiceConfig> config,
                                           const Destination& dest, S3SinkOptions options = {});

}  // namespace ddb2s3

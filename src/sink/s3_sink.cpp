// The S3 sink: a streaming multipart writer. Each writer fills one part at a time; full parts go to
// a pool of uploader threads owned by the sink (one connection each), and a cap on the parts queued
// or uploading across all writers makes write() wait, so memory stays flat however fast data comes.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/digest.h"
#include "base/encoding.h"
#include "base/strings.h"
#include "sink/sink.h"

namespace ddb2s3 {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for every part but the last
constexpr uint64_t kMaxPartSize = 5ull << 30;  // S3's maximum part size
constexpr int kMaxParts = 10000;
constexpr int kPartsPerSizeStep = 1000;  // the part size doubles every this many parts
constexpr size_t kSpareBuffers = 2;      // emptied part buffers kept for reuse across all writers

Error cancelled_error(const std::string& resource) {
  Error e = Error::make(ErrorKind::kCancelled, "Cancelled",
                        "the upload was cancelled (the sink was closed or the "
                        "object aborted)");
  e.resource = resource;
  return e;
}

std::string object_url(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

// S3 clients for the calls made on the callers' threads (create, complete, abort, put, get, list):
// leased one per call and returned, so connections are reused without sharing a client between threads.
class ClientPool {
 public:
  ClientPool(std::shared_ptr<const ServiceConfig> config, S3ClientOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}

  class Lease {
   public:
    Lease(ClientPool& pool, std::unique_ptr<S3Client> client) : pool_(pool), client_(std::move(client)) {}
    ~Lease() { pool_.release(std::move(client_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    S3Client* operator->() { return client_.get(); }

   private:
    ClientPool& pool_;
    std::unique_ptr<S3Client> client_;
  };

  Lease acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto client = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(client));
      }
    }
    return Lease(*this, std::make_unique<S3Client>(config_, options_));
  }

  S3Client make_client() const { return S3Client(config_, options_); }

 private:
  void release(std::unique_ptr<S3Client> client) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(client));
  }

  std::shared_ptr<const ServiceConfig> config_;
  S3ClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<S3Client>> idle_;
};

// One multipart upload as the uploader threads see it. Guarded by PartUploader::mu_ except the
// names and the id, which never change once the upload is created.
struct Upload {
  std::string bucket, key, upload_id;
  std::vector<std::string> etags;   // [part_number - 1]
  int outstanding = 0;              // parts queued or uploading
  std::optional<Error> failure;     // the first part failure (or a cancellation): later parts are skipped
  std::atomic<bool> failed{false};  // failure is set: lets write() notice without taking the lock
};

struct PartJob {
  std::shared_ptr<Upload> upload;
  int part_number = 0;
  std::string bytes;
  std::string md5;  // Content-MD5, computed by the writer as the bytes came
};

// The uploader threads, their queue, and the cap on parts in flight across all writers.
class PartUploader {
 public:
  PartUploader(const ClientPool& clients, ObjectOptions object_options, int threads, int max_in_flight)
      : object_options_(std::move(object_options)), max_in_flight_(max_in_flight) {
    threads_.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, client = clients.make_client()]() mutable { run(client); });
  }
  ~PartUploader() { stop(); }
  PartUploader(const PartUploader&) = delete;
  PartUploader& operator=(const PartUploader&) = delete;

  // Lets a writer start filling a part buffer: waits while the part buffers being filled, queued or uploading
  // reach the budget (2 x max parts in flight), so memory does not grow with the writers. A thread that
  // already fills one is never made to wait (one thread writing two objects cannot block itself). Returns an
  // emptied buffer when one is spare: touching fresh 8 MiB for every part costs page faults.
  std::string start_buffer() {
    std::unique_lock lock(mu_);
    const auto self = std::this_thread::get_id();
    const bool fills_one = std::find(filling_.begin(), filling_.end(), self) != filling_.end();
    if (!fills_one) {
      progress_cv_.wait(lock, [&] {
        return stopping_ || static_cast<int>(filling_.size()) + in_flight_ < 2 * max_in_flight_;
      });
    }
    filling_.push_back(self);
    if (spare_.empty()) return {};
    std::string b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }

  // The buffer started on thread id is no longer being filled (sent as a part, or dropped).
  void end_buffer(std::thread::id id) {
    std::lock_guard lock(mu_);
    end_buffer_locked(id);
  }

  // Keeps buffer for reuse (a few: more would hold memory the writers and parts in flight do not need).
  void give_buffer(std::string&& buffer) {
    if (buffer.capacity() == 0) return;
    buffer.clear();
    std::lock_guard lock(mu_);
    if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(buffer));
  }

  // Queues a part; waits while the cap is reached. Fails with the upload's failure, or when stopped.
  // The buffer stops counting as being filled by filler (from start_buffer()) and counts as in flight.
  Status submit(const std::shared_ptr<Upload>& upload, int part_number, std::string bytes, std::string md5,
                std::thread::id filler) {
    std::unique_lock lock(mu_);
    progress_cv_.wait(lock, [&] { return stopping_ || upload->failure || in_flight_ < max_in_flight_; });
    end_buffer_locked(filler);
    if (upload->failure) return *upload->failure;
    if (stopping_) return cancelled_error(object_url(upload->bucket, upload->key));
    if (upload->etags.size() < static_cast<size_t>(part_number)) upload->etags.resize(part_number);
    ++upload->outstanding;
    ++in_flight_;
    queue_.push_back(PartJob{upload, part_number, std::move(bytes), std::move(md5)});
    work_cv_.notify_one();
    return {};
  }

  // Waits until no part of upload is queued or uploading; then its failure, if any.
  Status wait(const std::shared_ptr<Upload>& upload) {
    std::unique_lock lock(mu_);
    progress_cv_.wait(lock, [&] { return upload->outstanding == 0; });
    if (upload->failure) return *upload->failure;
    return {};
  }

  std::optional<Error> failure(const Upload& upload) {
    std::lock_guard lock(mu_);
    return upload.failure;
  }

  // Drops upload's queued parts and waits for those being uploaded, so that an abort comes after them.
  void cancel(const std::shared_ptr<Upload>& upload) {
    std::unique_lock lock(mu_);
    if (!upload->failure) set_failure(*upload, cancelled_error(object_url(upload->bucket, upload->key)));
    drop_queued([&](const PartJob& job) { return job.upload == upload; });
    progress_cv_.wait(lock, [&] { return upload->outstanding == 0; });
  }

  // Drops every queued part and joins the threads (each finishes the part it is sending).
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      drop_queued([](const PartJob& job) {
        if (!job.upload->failure)
          set_failure(*job.upload, cancelled_error(object_url(job.upload->bucket, job.upload->key)));
        return true;
      });
    }
    work_cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  // With mu_ held.
  void end_buffer_locked(std::thread::id id) {
    auto it = std::find(filling_.begin(), filling_.end(), id);
    if (it == filling_.end()) return;
    filling_.erase(it);
    progress_cv_.notify_all();
  }

  // With mu_ held.
  static void set_failure(Upload& u, Error e) {
    u.failure = std::move(e);
    u.failed.store(true, std::memory_order_relaxed);
  }

  // With mu_ held.
  template <class Pred>
  void drop_queued(Pred pred) {
    size_t before = queue_.size();
    std::erase_if(queue_, [&](const PartJob& job) {
      if (!pred(job)) return false;
      --job.upload->outstanding;
      return true;
    });
    in_flight_ -= static_cast<int>(before - queue_.size());
    progress_cv_.notify_all();
  }

  void run(S3Client& client) {
    std::unique_lock lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // stop() has dropped the queue
      PartJob job = std::move(queue_.front());
      queue_.pop_front();
      Upload& u = *job.upload;
      if (!u.failure) {  // parts of a failed upload are not worth sending
        lock.unlock();
        auto etag = client.upload_part(u.bucket, u.key, u.upload_id, job.part_number, job.bytes, job.md5,
                                       object_options_);
        lock.lock();
        // Back to the pool before making room for another part, so that the next writer reuses it.
        job.bytes.clear();
        if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(job.bytes));
        job.bytes = std::string();
        if (etag)
          u.etags[job.part_number - 1] = std::move(*etag);
        else if (!u.failure) {
          Error e = std::move(etag).error();
          e.message += " (part " + std::to_string(job.part_number) + ")";
          set_failure(u, std::move(e));
        }
      }
      --u.outstanding;
      --in_flight_;
      progress_cv_.notify_all();
    }
  }

  const ObjectOptions object_options_;  // per-part headers (SSE-C) are taken from these
  const int max_in_flight_;
  std::mutex mu_;
  std::condition_variable work_cv_;      // uploader threads: a part is queued, or stop
  std::condition_variable progress_cv_;  // writers: a part is done or dropped
  std::deque<PartJob> queue_;
  std::vector<std::string> spare_;        // emptied part buffers for writers to fill again
  std::vector<std::thread::id> filling_;  // a thread per part buffer being filled by a writer
  int in_flight_ = 0;                     // queued or uploading
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// What the sink and its writers share; writers keep it alive, so a writer outliving the sink fails
// cleanly (its parts are cancelled) instead of touching freed state.
struct SinkCore {
  SinkCore(std::shared_ptr<const ServiceConfig> config, Destination d, S3SinkOptions o)
      : dest(std::move(d)),
        options(std::move(o)),
        clients(std::move(config), S3ClientOptions{.expected_bucket_owner = options.expected_bucket_owner,
                                                   .region_cache = std::make_shared<BucketRegionCache>()}),
        uploader(clients, options.object_options, options.upload_threads, options.max_parts_in_flight) {}

  const Destination dest;
  const S3SinkOptions options;
  ClientPool clients;
  PartUploader uploader;
};

class S3ObjectWriter final : public ObjectWriter {
 public:
  S3ObjectWriter(std::shared_ptr<SinkCore> core, std::string key)
      : core_(std::move(core)), key_(std::move(key)), part_size_(core_->options.part_size) {}
  ~S3ObjectWriter() override { abort(); }

  Status write(std::string_view bytes) override {
    if (Status s = usable(); !s) return s;
    if (upload_ && upload_->failed.load(std::memory_order_relaxed))  // a part failed: say so now
      if (auto e = core_->uploader.failure(*upload_)) return fail(std::move(*e));
    size_ += bytes.size();
    while (!bytes.empty()) {
      // A full part is sent only when more bytes come, so an object of exactly one part is a PutObject.
      if (buffer_.size() == part_size_)
        if (Status s = send_part(); !s) return s;
      if (!filling_) {
        buffer_ = core_->uploader.start_buffer();
        filling_ = std::this_thread::get_id();
      }
      if (buffer_.capacity() < part_size_) buffer_.reserve(part_size_);
      size_t n = std::min<uint64_t>(bytes.size(), part_size_ - buffer_.size());
      buffer_.append(bytes.data(), n);
      md5_.update(bytes.substr(0, n));  // the object's and this part's MD5 in one pass
      bytes.remove_prefix(n);
    }
    return {};
  }

  Result<StoredObject> finish() override {
    DDB2S3_RETURN_IF_ERROR(usable());
    const std::string& bucket = core_->dest.bucket;
    std::string etag;
    if (!upload_) {
      ObjectOptions options = core_->options.object_options;
      options.content_md5(md5_.base64_digest(0));
      auto put = core_->clients.acquire()->put_object(bucket, key_, buffer_, options);
      if (!put) return fail(std::move(put).error());
      etag = std::move(*put);
    } else {
      if (!buffer_.empty()) DDB2S3_RETURN_IF_ERROR(send_part());
      if (Status s = core_->uploader.wait(upload_); !s) return fail(std::move(s).error());
      std::vector<CompletedPart> parts;
      parts.reserve(upload_->etags.size());
      for (size_t i = 0; i < upload_->etags.size(); ++i)  // no part is in flight: safe to read unlocked
        parts.push_back(CompletedPart{static_cast<int>(i) + 1, upload_->etags[i]});
      auto done =
          core_->clients.acquire()->complete_multipart_upload(bucket, key_, upload_->upload_id, parts);
      if (!done && done.error().code == "NoSuchUpload") done = completed_earlier(std::move(done).error());
      if (!done) return fail(std::move(done).error());
      etag = std::move(*done);
      upload_.reset();
    }
    state_ = State::kFinished;
    core_->uploader.give_buffer(std::move(buffer_));
    buffer_ = std::string();
    end_filling();
    return StoredObject{key_, size_, md5_.base64_digest(0), std::move(etag)};
  }

  void abort() override {
    if (state_ != State::kOpen) return;
    state_ = State::kAborted;
    abort_upload();
  }

 private:
  enum class State { kOpen, kFinished, kFailed, kAborted };

  Status usable() const {
    switch (state_) {
      case State::kOpen:
        return {};
      case State::kFailed:
        return *failure_;
      case State::kFinished:
      case State::kAborted:
        break;
    }
    Error e = Error::internal(std::string("the object was already ") +
                              (state_ == State::kFinished ? "finished" : "aborted"));
    e.resource = core_->dest.describe(key_);
    return e;
  }

  // CompleteMultipartUpload answered NoSuchUpload: when an earlier attempt completed the upload and its
  // answer was lost, the object is there with this upload's size and multipart ETag (from the parts' MD5s);
  // then that is the answer. Otherwise the upload was aborted or replaced elsewhere: an error naming the key.
  Result<std::string> completed_earlier(Error no_such_upload) {
    const std::string& bucket = core_->dest.bucket;
    const ObjectOptions& options = core_->options.object_options;
    auto head = core_->clients.acquire()->head_object(bucket, key_, options);
    if (!head) return std::move(head).error();
    const std::string expected = multipart_etag(part_md5s_);
    // With SSE-KMS or SSE-C, S3's ETags are not MD5s of the data: only the size can be compared.
    const bool etag_is_md5 = !istarts_with(options.get("x-amz-server-side-encryption"), "aws:kms") &&
                             options.get("x-amz-server-side-encryption-customer-algorithm").empty();
    if (*head && (*head)->size == size_ && (!etag_is_md5 || (*head)->etag == expected)) return (*head)->etag;
    Error e = std::move(no_such_upload);
    e.kind = ErrorKind::kClient;
    if (!*head) {
      e.message += "; the multipart upload is gone and '" + core_->dest.describe(key_) +
                   "' does not exist: it was aborted elsewhere (another process, a lifecycle rule)";
    } else {
      e.message += "; the multipart upload is gone and '" + core_->dest.describe(key_) + "' holds " +
                   std::to_string((*head)->size) + " bytes with ETag " + (*head)->etag +
                   ", not this upload's " + std::to_string(size_) + " bytes" +
                   (etag_is_md5 ? " with ETag " + expected : "") +
                   ": another writer completed or replaced it";
    }
    e.hint = "make sure that no other run writes under this prefix, then run the copy again";
    return e;
  }

  // Sends buffer_ as the next part, creating the multipart upload first if this is the first part.
  Status send_part() {
    if (next_part_ > kMaxParts) {
      Error e = Error::make(ErrorKind::kClient, "TooManyParts",
                            "the object needs more than S3's 10000 parts; raise the part size");
      e.operation = "UploadPart";
      e.resource = core_->dest.describe(key_);
      return fail(std::move(e));
    }
    if (!upload_) {
      auto id = core_->clients.acquire()->create_multipart_upload(core_->dest.bucket, key_,
                                                                  core_->options.object_options);
      if (!id) return fail(std::move(id).error());
      upload_ = std::make_shared<Upload>();
      upload_->bucket = core_->dest.bucket;
      upload_->key = key_;
      upload_->upload_id = std::move(*id);
    }
    const auto part_md5 = md5_.digest(1);
    part_md5s_.append(reinterpret_cast<const char*>(part_md5.data()), part_md5.size());
    Status submitted = core_->uploader.submit(upload_, next_part_, std::move(buffer_),
                                              base64_encode(part_md5.data(), part_md5.size()),
                                              filling_.value_or(std::thread::id()));
    filling_.reset();
    if (!submitted) return fail(std::move(submitted).error());
    md5_.reset_second();
    ++next_part_;
    buffer_ = std::string();
    part_size_ = s3_part_size(core_->options.part_size, next_part_);
    return {};
  }

  // The writer is failed: the upload is aborted now (S3 keeps the parts of an unaborted upload, and bills
  // them).
  Error fail(Error e) {
    state_ = State::kFailed;
    failure_ = e;
    abort_upload();
    return e;
  }

  void end_filling() {
    if (filling_) core_->uploader.end_buffer(*filling_);
    filling_.reset();
  }

  void abort_upload() {
    buffer_ = std::string();
    end_filling();
    if (!upload_) return;
    core_->uploader.cancel(upload_);
    // Best effort: the error is ignored (the caller already has the one that matters).
    (void)core_->clients.acquire()->abort_multipart_upload(upload_->bucket, upload_->key, upload_->upload_id);
    upload_.reset();
  }

  std::shared_ptr<SinkCore> core_;
  const std::string key_;
  DualMd5 md5_;         // 0: the whole object (for the manifest), 1: the part being filled (for Content-MD5)
  uint64_t part_size_;  // of the part being filled
  std::string buffer_;  // the part being filled
  std::optional<std::thread::id> filling_;  // set while buffer_ counts against the sink's buffer budget
  uint64_t size_ = 0;
  int next_part_ = 1;
  std::shared_ptr<Upload> upload_;  // null until the first part is sent
  std::string part_md5s_;           // the binary MD5 of every part sent, in order (the multipart ETag)
  State state_ = State::kOpen;
  std::optional<Error> failure_;
};

class S3Sink final : public Sink {
 public:
  explicit S3Sink(std::shared_ptr<SinkCore> core) : core_(std::move(core)) {}
  ~S3Sink() override { core_->uploader.stop(); }

  Status check() override { return core_->clients.acquire()->head_bucket(core_->dest.bucket); }

  Result<std::unique_ptr<ObjectWriter>> open(const std::string& key) override {
    return std::unique_ptr<ObjectWriter>(std::make_unique<S3ObjectWriter>(core_, key));
  }

  Result<StoredObject> put(const std::string& key, std::string_view bytes,
                           std::string_view content_type) override {
    ObjectOptions options = core_->options.object_options;
    if (!content_type.empty()) options.content_type(std::string(content_type));
    std::string md5 = content_md5(bytes);
    options.content_md5(md5);
    DDB2S3_ASSIGN_OR_RETURN(auto etag,
                            core_->clients.acquire()->put_object(core_->dest.bucket, key, bytes, options));
    return StoredObject{key, bytes.size(), std::move(md5), std::move(etag)};
  }

  Result<std::optional<std::string>> get(const std::string& key) override {
    std::string out;
    Status s = core_->clients.acquire()->get_object(core_->dest.bucket, key, out);
    if (s) return std::optional<std::string>(std::move(out));
    if (s.error().code == "NoSuchKey") return std::optional<std::string>();
    return std::move(s).error();
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    DDB2S3_ASSIGN_OR_RETURN(auto objects, core_->clients.acquire()->list_objects(core_->dest.bucket, prefix));
    std::vector<std::string> keys;
    keys.reserve(objects.size());
    for (auto& o : objects) keys.push_back(std::move(o.key));
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  Result<std::vector<ObjectSummary>> list_objects(const std::string& prefix) override {
    DDB2S3_ASSIGN_OR_RETURN(auto objects, core_->clients.acquire()->list_objects(core_->dest.bucket, prefix));
    std::sort(objects.begin(), objects.end(),
              [](const ObjectSummary& a, const ObjectSummary& b) { return a.key < b.key; });
    return objects;
  }

  Status read(const std::string& key, uint64_t offset, uint64_t length, std::string& out) override {
    out.clear();
    if (length == 0) return {};
    return core_->clients.acquire()->get_object(core_->dest.bucket, key, out,
                                                ByteRange{offset, offset + length - 1});
  }

  Status remove(const std::string& key) override {
    return core_->clients.acquire()->delete_object(core_->dest.bucket, key);  // S3: 204 for a missing key too
  }

  Result<std::vector<std::string>> list_unfinished(const std::string&) override {
    return std::vector<std::string>{};
  }

  std::string describe(std::string_view key) const override { return core_->dest.describe(key); }

 private:
  std::shared_ptr<SinkCore> core_;
};

}  // namespace

uint64_t s3_part_size(uint64_t base, int part_number) {
  uint64_t size = base;
  for (int step = (part_number - 1) / kPartsPerSizeStep; step > 0 && size < kMaxPartSize; --step) size *= 2;
  return std::min(size, kMaxPartSize);
}

Result<std::unique_ptr<Sink>> make_s3_sink(std::shared_ptr<const ServiceConfig> config,
                                           const Destination& dest, S3SinkOptions options) {
  if (!config) return Error::internal("make_s3_sink: no S3 configuration");
  if (!dest.is_s3 || dest.bucket.empty())
    return Error::usage("'" + dest.directory + "' is not an s3:// destination");
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize)
    return Error::usage("the part size must be from 5 MiB to 5 GiB (S3's limits); got " +
                        std::to_string(options.part_size) + " bytes");
  if (options.upload_threads < 1 || options.upload_threads > 1024)
    return Error::usage("the number of upload threads must be from 1 to 1024; got " +
                        std::to_string(options.upload_threads));
  if (options.max_parts_in_flight < 1)
    return Error::usage("the parts in flight must be at least 1; got " +
                        std::to_string(options.max_parts_in_flight));
  auto core = std::make_shared<SinkCore>(std::move(config), dest, std::move(options));
  return std::unique_ptr<Sink>(std::make_unique<S3Sink>(std::move(core)));
}

}  // namespace ddb2s3

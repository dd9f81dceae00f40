// Segment workers: each segment's pages are fetched, transcoded, compressed and rolled into data files
// (ObjectRoller) that go to the sink.
#include "scan/segment.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "scan/bounded_queue.h"
#include "scan/checkpoint.h"
#include "scan/manifest.h"
#include "scan/read_rate.h"

namespace ddb2s3 {
namespace {

// Data files of one segment: a new object starts at the first page end at or past --file-size. Each
// finished file is checkpointed with the LastEvaluatedKey of its last page (where a resumed scan goes on),
// at most once per checkpoint_interval: a file finished sooner is recorded after a later page (so that
// tiny files do not cost a PutObject each), and the segment's end always at once.
class ObjectRoller {
 public:
  ObjectRoller(RunContext& ctx, int segment, Compressor& compressor, SegmentResult& result, int next_index)
      : ctx_(ctx), segment_(segment), compressor_(compressor), result_(result), next_index_(next_index) {}

  // last_key: the page's LastEvaluatedKey (empty on the segment's last page).
  Status add_page(std::string_view lines, uint64_t items, std::string_view last_key) {
    last_key_.assign(last_key);
    if (items == 0 && lines.empty()) return checkpoint_if_due();
    if (!writer_) {
      if (auto s = open(); !s) return s;
    }
    std::string_view out = lines;  // uncompressed: written as they are, not copied through the compressor
    if (compressor_.compression() != Compression::kNone) {
      buf_.clear();
      if (auto s = compressor_.add_page(lines, buf_); !s) return s;
      out = buf_;
    }
    if (auto s = write(out); !s) return s;
    items_ += items;
    if (size_ >= ctx_.options.file_size) return close();
    return checkpoint_if_due();
  }

  // After the last page: the open file closed, and the segment checkpointed as finished.
  Status finish() {
    if (writer_) DDB2S3_RETURN_IF_ERROR(close());
    if (!position_.finished) mark();  // the last file closed before the last pages (or none at all)
    return checkpoint_if_due();
  }

 private:
  Status open() {
    key_ = ctx_.options.dest.key(ctx_.run_prefix + data_file_name(segment_, ctx_.options.total_segments,
                                                                  next_index_++, compressor_.compression()));
    DDB2S3_ASSIGN_OR_RETURN(auto writer, ctx_.sink.open(key_));
    writer_ = std::move(writer);
    compressor_.start_object();
    size_ = 0;
    items_ = 0;
    return {};
  }

  // Counted as they reach the sink, so that the progress line's stored bytes grow during a data file.
  Status write(std::string_view bytes) {
    if (auto s = writer_->write(bytes); !s) return s;
    size_ += bytes.size();
    ctx_.count(&ScanProgress::stored_bytes, bytes.size());
    return {};
  }

  Status close() {
    buf_.clear();
    if (auto s = compressor_.finish_object(buf_); !s) return s;
    if (auto s = write(buf_); !s) return s;
    auto stored = writer_->finish();
    writer_.reset();
    if (!stored) return std::move(stored).error();
    DataFile f{std::move(*stored), items_, segment_};
    ctx_.count(&ScanProgress::files, 1);
    result_.files.push_back(std::move(f));
    mark();
    return checkpoint_if_due();
  }

  // The pages so far are all in finished files: a checkpoint may say that the segment goes on from last_key_.
  void mark() {
    position_.items = result_.items;
    position_.scanned = result_.scanned;
    position_.scan_bytes = result_.scan_bytes;
    position_.pages = result_.pages;
    position_.consumed_rcu = result_.consumed_rcu;
    position_.files = result_.files.size();
    position_.next_file_index = next_index_;
    position_.exclusive_start_key = last_key_;
    position_.finished = last_key_.empty();
    pending_ = true;
  }

  Status checkpoint_if_due() {
    if (!pending_ || ctx_.checkpoints == nullptr) return {};
    const auto now = std::chrono::steady_clock::now();
    if (!position_.finished &&
        now - last_checkpoint_ < std::chrono::duration<double>(ctx_.options.checkpoint_interval))
      return {};
    pending_ = false;
    last_checkpoint_ = now;
    return ctx_.checkpoints->record(segment_, result_.files, position_);
  }

  RunContext& ctx_;
  int segment_;
  Compressor& compressor_;
  SegmentResult& result_;
  std::unique_ptr<ObjectWriter> writer_;  // destroyed unfinished on failure: the upload is aborted
  std::string key_;
  std::string buf_;
  std::string last_key_;  // of the last page added
  uint64_t size_ = 0, items_ = 0;
  int next_index_ = 0;
  SegmentPosition position_;                                 // as of the last finished file
  bool pending_ = false;                                     // position_ is not checkpointed yet
  std::chrono::steady_clock::time_point last_checkpoint_{};  // the first file is checkpointed at once
};

uint64_t count_lines(std::string_view s) {
  return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

// A page fetched and transcoded, waiting to be compressed and written.
struct PageLines {
  std::string lines;
  uint64_t items = 0;
  uint64_t scanned = 0;
  uint64_t scan_bytes = 0;
  double consumed_rcu = 0;
  std::string last_key;  // LastEvaluatedKey; empty on the segment's last page
};

// One segment: a fetcher thread fetches each Scan page and transcodes it, while this thread compresses and
// writes the previous page's lines (at most one page waits between them: each is ~1 MB per segment). The
// transcoder's walk of the page is the only one: it also yields LastEvaluatedKey for the next request, so
// the next fetch starts after the transcode (~1.6 ms per MB page, small against a real Scan's latency).
// With a checkpoint (from), it goes on from there: its files and counts, its start key and next file index.
Status run_segment(RunContext& ctx, int segment, PageTranscoder& transcoder, Compressor& compressor,
                   SegmentResult& result, const Checkpoint* from) {
  const ScanOptions& o = ctx.options;
  BoundedQueue<PageLines> pages(1);
  // Pages held at once: one being written and one fetched ahead (fetching further ahead only adds
  // memory: the next fetch starts as soon as a page is taken).
  constexpr int kPagesHeld = 2;
  std::mutex spare_mu;
  std::condition_variable page_done;
  int held = 0;                    // pages fetched (or being fetched) and not yet written
  bool done = false;               // the writing side has stopped
  std::vector<std::string> spare;  // written line buffers going back to the fetcher for reuse
  std::optional<Error> fetch_error;

  std::thread fetcher([&] {
    DynamoDbClient ddb(ctx.source);
    ScanRequest request = o.request;
    request.table_name = o.table;
    if (o.total_segments > 1) {
      request.segment = segment;
      request.total_segments = o.total_segments;
    }
    if (from != nullptr) request.exclusive_start_key_json = from->exclusive_start_key;
    ScanPage page;  // the answer's bytes; its fields come from the transcoder's walk
    while (!ctx.stopping()) {
      PageLines out;
      {
        std::unique_lock lock(spare_mu);
        page_done.wait(lock, [&] { return held < kPagesHeld || done; });
        if (done) break;
        ++held;
        if (!spare.empty()) {
          out.lines = std::move(spare.back());
          spare.pop_back();
        }
      }
      const std::optional<double> reserved =
          ctx.read_rate->before_page(request, [&] { return ctx.stopping(); });
      if (!reserved) break;
      if (Status s = ddb.scan_body(request, page.body); !s) {
        fetch_error = std::move(s).error();
        break;
      }
      out.lines.clear();
      auto info = transcoder.transcode(page.body, out.lines);
      if (!info) {
        Error e = std::move(info).error();
        e.operation = "Scan";
        e.resource = "table '" + o.table + "' segment " + std::to_string(segment);
        fetch_error = std::move(e);
        break;
      }
      if (Status s = ddb.check_last_evaluated_key(info->last_evaluated_key, o.table); !s) {
        fetch_error = std::move(s).error();
        break;
      }
      page.scanned_count = static_cast<int64_t>(info->scanned_count);
      page.consumed_capacity_units = info->consumed_capacity_units;
      ctx.read_rate->after_page(page, *reserved);
      out.items = o.item_callback ? count_lines(out.lines) : info->items;
      out.scanned = info->scanned_count;
      out.scan_bytes = page.body.size();
      out.consumed_rcu = info->consumed_capacity_units.value_or(0);
      out.last_key = std::move(info->last_evaluated_key);
      const bool last = out.last_key.empty();
      if (!last) request.exclusive_start_key_json = out.last_key;
      if (!pages.push(std::move(out))) break;
      if (last) break;
    }
    pages.close();
  });

  ObjectRoller roller(ctx, segment, compressor, result, from != nullptr ? from->next_file_index : 0);
  Status status;
  while (auto page = pages.pop()) {
    if (ctx.stopping()) break;
    result.items += page->items;
    result.scanned += page->scanned;
    result.scan_bytes += page->scan_bytes;
    result.pages += 1;
    result.consumed_rcu += page->consumed_rcu;
    if (o.progress != nullptr) o.progress->consumed_rcu.fetch_add(page->consumed_rcu);
    ctx.count(&ScanProgress::items, page->items);
    ctx.count(&ScanProgress::scanned, page->scanned);
    ctx.count(&ScanProgress::scan_bytes, page->scan_bytes);
    ctx.count(&ScanProgress::pages, 1);
    if (status = roller.add_page(page->lines, page->items, page->last_key); !status) break;
    {
      std::lock_guard lock(spare_mu);
      if (spare.empty()) spare.push_back(std::move(page->lines));
      --held;
    }
    page_done.notify_one();
  }
  {
    std::lock_guard lock(spare_mu);
    done = true;
  }
  page_done.notify_one();
  pages.close();  // unblocks the fetcher if this side stopped first
  fetcher.join();
  if (!status) return status;
  if (fetch_error) return std::move(*fetch_error);
  if (ctx.stopping()) return cancelled_error();
  return roller.finish();
}

}  // namespace

Error cancelled_error() { return Error::make(ErrorKind::kCancelled, "Cancelled", "the run was cancelled"); }

void run_worker(RunContext& ctx, std::atomic<int>& next, const std::vector<int>& segments) {
  PageTranscoder transcoder(ctx.options.format);
  if (ctx.options.item_callback) transcoder.set_item_callback(ctx.options.item_callback);
  auto compressor = Compressor::make(ctx.options.compression, ctx.options.compression_level);
  if (!compressor) return ctx.fail(std::move(compressor).error());
  while (!ctx.stopping()) {
    int i = next.fetch_add(1);
    if (i >= static_cast<int>(segments.size())) return;
    SegmentResult result;
    result.segment = segments[i];
    const Checkpoint* from = ctx.checkpoints ? ctx.checkpoints->find(segments[i]) : nullptr;
    if (from != nullptr) {  // what the segment did before: counted again, so progress shows the run's totals
      result = from->done;
      ctx.count(&ScanProgress::items, result.items);
      ctx.count(&ScanProgress::scanned, result.scanned);
      ctx.count(&ScanProgress::scan_bytes, result.scan_bytes);
      ctx.count(&ScanProgress::pages, result.pages);
      ctx.count(&ScanProgress::files, result.files.size());
      uint64_t stored = 0;
      for (const DataFile& f : result.files) stored += f.object.size;
      ctx.count(&ScanProgress::stored_bytes, stored);
    }
    if (from == nullptr || !from->finished) {
      Status s = run_segment(ctx, segments[i], transcoder, **compressor, result, from);
      if (!s) return ctx.fail(std::move(s).error());
    }
    if (ctx.options.progress != nullptr) ctx.options.progress->segments_done.fetch_add(1);
    std::lock_guard lock(ctx.mu);
    ctx.results.push_back(std::move(result));
  }
}

}  // namespace ddb2s3

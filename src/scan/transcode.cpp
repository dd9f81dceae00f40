// Scan page -> output lines: the public PageTranscoder. The page walk itself is one of the kernels of
// transcode_kernel.h (the same code compiled for AVX-512, AVX2 or the baseline), chosen once per
// transcoder from what the CPU supports.
#include "scan/transcode.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "scan/transcode_kernel.h"

namespace ddb2s3 {

static_assert(kScanBodyPadding >= simdjson::SIMDJSON_PADDING);

namespace transcode_internal {
namespace {

constexpr size_t kExcerptBefore = 24;
constexpr size_t kExcerptAfter = 40;

struct KernelEntry {
  const char* name;
  std::unique_ptr<Kernel> (*make)(OutputFormat, const ItemCallback*);
};

// Best first.
constexpr KernelEntry kKernels[] = {
    {"icelake", make_icelake_kernel},
    {"haswell", make_haswell_kernel},
    {"fallback", make_fallback_kernel},
};

// simdjson's own CPU detection: the kernel needs what simdjson's implementation of that name needs.
bool cpu_supports(std::string_view name) {
  if (name == "fallback") return true;
  const simdjson::implementation* impl = simdjson::get_available_implementations()[std::string(name)];
  return impl != nullptr && impl->supported_by_runtime_system();
}

}  // namespace

bool kernel_supported(std::string_view name) {
  for (const KernelEntry& k : kKernels) {
    if (name == k.name) return cpu_supports(name) && k.make(OutputFormat::kJsonl, nullptr) != nullptr;
  }
  return false;
}

std::vector<std::string> supported_kernels() {
  std::vector<std::string> names;
  for (const KernelEntry& k : kKernels) {
    if (kernel_supported(k.name)) names.emplace_back(k.name);
  }
  return names;
}

std::string chosen_kernel() {
  const char* forced = std::getenv(kKernelEnv);
  if (forced != nullptr && kernel_supported(forced)) return forced;
  return supported_kernels().front();
}

namespace {

std::unique_ptr<Kernel> make_chosen_kernel(OutputFormat format, const ItemCallback* callback) {
  const std::string name = chosen_kernel();
  for (const KernelEntry& k : kKernels) {
    if (name == k.name) return k.make(format, callback);
  }
  return make_fallback_kernel(format, callback);
}

}  // namespace
}  // namespace transcode_internal

struct PageTranscoder::Impl {
  explicit Impl(OutputFormat f) : format(f) {
    kernel = transcode_internal::make_chosen_kernel(format, &callback);
  }

  Result<PageInfo> transcode(std::string& body, std::string& out);
  Error error(std::string_view body) const;

  OutputFormat format;
  ItemCallback callback;
  std::unique_ptr<transcode_internal::Kernel> kernel;  // refers to callback: Impl never moves
};

Result<PageInfo> PageTranscoder::Impl::transcode(std::string& body, std::string& out) {
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING)
    body.reserve(body.size() + kScanBodyPadding);
  const size_t out_size = out.size();
  PageInfo info;
  if (!kernel->transcode(body, out, info)) {
    out.resize(out_size);
    return error(body);
  }
  return info;
}

Error PageTranscoder::Impl::error(std::string_view body) const {
  using transcode_internal::kExcerptAfter;
  using transcode_internal::kExcerptBefore;
  const char* const at = kernel->at;
  const char* const failure = kernel->failure;
  size_t pos = at == nullptr ? 0 : static_cast<size_t>(at - body.data());
  if (pos > body.size()) pos = body.size();
  const size_t from = pos > kExcerptBefore ? pos - kExcerptBefore : 0;
  const size_t to = std::min(body.size(), pos + kExcerptAfter);
  std::string excerpt;
  for (size_t i = from; i < to; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    excerpt += (c < 0x20 || c == 0x7F) ? '.' : static_cast<char>(c);
  }
  std::string message = "malformed Scan response: ";
  message += failure != nullptr ? failure : "unknown error";
  message += " near byte " + std::to_string(pos) + ": '" + excerpt + "'";
  return Error::make(ErrorKind::kInternal, "MalformedScanResponse", std::move(message));
}

PageTranscoder::PageTranscoder(OutputFormat format) : impl_(std::make_unique<Impl>(format)) {}
PageTranscoder::~PageTranscoder() = default;
PageTranscoder::PageTranscoder(PageTranscoder&&) noexcept = default;
PageTranscoder& PageTranscoder::operator=(PageTranscoder&&) noexcept = default;

OutputFormat PageTranscoder::format() const { return impl_->format; }

void PageTranscoder::set_item_callback(ItemCallback fn) { impl_->callback = std::move(fn); }

Result<PageInfo> PageTranscoder::transcode(std::string& body, std::string& out) {
  return impl_->transcode(body, out);
}

}  // namespace ddb2s3

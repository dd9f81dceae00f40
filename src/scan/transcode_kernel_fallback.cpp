// The baseline transcoding kernel: the page walk compiled with the project's flags (no -march: simdjson's
// fallback on-demand, SSE2 for our own copies). Runs on every CPU.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "scan/transcode_kernel.h"

namespace ddb2s3::transcode_internal {
namespace {

#include "scan/transcode_kernel.inc"

}  // namespace

std::unique_ptr<Kernel> make_fallback_kernel(OutputFormat format, const ItemCallback* callback) {
  return make_kernel(format, callback);
}

}  // namespace ddb2s3::transcode_internal

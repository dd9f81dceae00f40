// The haswell transcoding kernel: the page walk compiled for AVX2 (simdjson's haswell), with simdjson's
// haswell on-demand. Only transcode.cpp calls it, and only on a CPU that supports it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

// The whole file is one target region, standard headers included: std::pair<raw_json_string, value>
// (ondemand::field's base) must be instantiated inside it to inline simdjson's constructors. So the file
// must emit no out-of-line function that other files share (std::, simdjson::, ddb2s3:: outside this
// file's own namespace) compiled for this ISA: transcode_test's KernelObjectsShareNoSimdCode checks it.
#pragma GCC push_options
#pragma GCC target("avx2,bmi,pclmul,lzcnt")
#define SIMDJSON_BUILTIN_IMPLEMENTATION haswell
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "scan/transcode_kernel.h"

namespace ddb2s3::transcode_internal {
namespace {

static_assert(std::is_same_v<simdjson::ondemand::parser, simdjson::haswell::ondemand::parser>);

#include "scan/transcode_kernel.inc"

}  // namespace

std::unique_ptr<Kernel> make_haswell_kernel(OutputFormat format, const ItemCallback* callback) {
  return make_kernel(format, callback);
}

}  // namespace ddb2s3::transcode_internal

#pragma GCC pop_options

#else

#include "scan/transcode_kernel.h"

namespace ddb2s3::transcode_internal {
std::unique_ptr<Kernel> make_haswell_kernel(OutputFormat, const ItemCallback*) { return nullptr; }
}  // namespace ddb2s3::transcode_internal

#endif

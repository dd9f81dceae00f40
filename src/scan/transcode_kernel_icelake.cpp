// The icelake transcoding kernel: the page walk compiled for AVX-512 (simdjson's icelake: Ice Lake and later,
// Zen 4), with simdjson's icelake on-demand. Only transcode.cpp calls it, and only on a CPU that supports it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

// The whole file is one target region, standard headers included: std::pair<raw_json_string, value>
// (ondemand::field's base) must be instantiated inside it to inline simdjson's constructors. So the file
// must emit no out-of-line function that other files share (std::, simdjson::, ddb2s3:: outside this
// file's own namespace) compiled for this ISA: transcode_test's KernelObjectsShareNoSimdCode checks it.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512cd,avx512bw,avx512vbmi,avx512vbmi2,avx512vl,avx2,bmi,pclmul,lzcnt")
#define SIMDJSON_BUILTIN_IMPLEMENTATION icelake
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "scan/transcode_kernel.h"

namespace ddb2s3::transcode_internal {
namespace {

static_assert(std::is_same_v<simdjson::ondemand::parser, simdjson::icelake::ondemand::parser>);

#include "scan/transcode_kernel.inc"

}  // namespace

std::unique_ptr<Kernel> make_icelake_kernel(OutputFormat format, const ItemCallback* callback) {
  return make_kernel(format, callback);
}

}  // namespace ddb2s3::transcode_internal

#pragma GCC pop_options

#else

#include "scan/transcode_kernel.h"

namespace ddb2s3::transcode_internal {
std::unique_ptr<Kernel> make_icelake_kernel(OutputFormat, const ItemCallback*) { return nullptr; }
}  // namespace ddb2s3::transcode_internal

#endif

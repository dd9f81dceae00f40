// Internal to the transcode module (and its tests and bench): the per-CPU kernels behind PageTranscoder.
//
// simdjson 3.0.1 compiles its on-demand API only for the "builtin" implementation, the best one the
// translation unit's flags allow: without -march that is `fallback`. Stage 1 (finding the structure)
// is dispatched at run time by the shared library whatever the builtin, but the walk itself (our code
// and the on-demand iterator inlined into it) is not. So the walk (transcode_kernel.inc) is compiled
// once per kernel, each in its own file that is one `#pragma GCC target` region, and one kernel is
// chosen per transcoder. Such a file must share no ISA-specific code with other files: a test checks.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scan/transcode.h"

namespace ddb2s3::transcode_internal {

// Forces a kernel ("icelake", "haswell" or "fallback") for transcoders constructed afterwards; read at
// construction. Unset, empty, unknown or not supported by this CPU: the best kernel the CPU supports.
inline constexpr const char* kKernelEnv = "DDB2S3_SIMDJSON_KERNEL";

// One page walk. Reports failures through failure/at, which the transcoder turns into an Error.
class Kernel {
 public:
  virtual ~Kernel() = default;
  // Appends the page's lines to out and fills info; false on malformed input (out then holds garbage
  // past its size at the call, which the caller trims).
  virtual bool transcode(std::string& body, std::string& out, PageInfo& info) = 0;

  const char* failure = nullptr;  // what failed
  const char* at = nullptr;       // the latest position reached in the body, for the excerpt
};

// Each returns nullptr when the kernel was not compiled in (non-x86-64 or non-GCC builds). Call one only
// if the CPU supports it (kernel_supported()).
std::unique_ptr<Kernel> make_icelake_kernel(OutputFormat format, const ItemCallback* callback);
std::unique_ptr<Kernel> make_haswell_kernel(OutputFormat format, const ItemCallback* callback);
std::unique_ptr<Kernel> make_fallback_kernel(OutputFormat format, const ItemCallback* callback);

// Whether the kernel is compiled in and this CPU can run it ("fallback" always).
bool kernel_supported(std::string_view name);
// The kernels this machine can run, best first.
std::vector<std::string> supported_kernels();
// The kernel a transcoder constructed now uses: DDB2S3_SIMDJSON_KERNEL if set and supported, else
// the best supported one.
std::string chosen_kernel();

}  // namespace ddb2s3::transcode_internal

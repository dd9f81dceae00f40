// A parallel scan's shape: DynamoDB's bound on TotalSegments and the one check of total_segments and
// segment that the run, finalize and the segment manifests share.
#pragma once

#include <optional>

#include "base/result.h"

namespace ddb2s3 {

inline constexpr int kMaxTotalSegments = 1000000;  // DynamoDB's limit on TotalSegments

// total_segments in 1..kMaxTotalSegments and, when set, segment in 0..total_segments - 1; else a usage
// error naming the one at fault in its message and in Error::field ("total_segments" or "segment").
Status check_segments(int total_segments, std::optional<int> segment);

}  // namespace ddb2s3

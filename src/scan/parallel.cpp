// The one check of a parallel scan's total_segments and segment.
#include "scan/parallel.h"

#include <string>

namespace ddb2s3 {

Status check_segments(int total_segments, std::optional<int> segment) {
  if (total_segments < 1 || total_segments > kMaxTotalSegments)
    return Error::usage("total_segments must be from 1 to " + std::to_string(kMaxTotalSegments) +
                        " (DynamoDB's limit), not " + std::to_string(total_segments))
        .with_field("total_segments");
  if (segment && (*segment < 0 || *segment >= total_segments))
    return Error::usage("segment must be from 0 to total_segments - 1 (" +
                        std::to_string(total_segments - 1) + "), not " + std::to_string(*segment))
        .with_field("segment");
  return {};
}

}  // namespace ddb2s3

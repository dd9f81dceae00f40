// A parallel scan's shape: DynamoDB's bound on TotalSegments, the one check of total_segments and
// segment that the run, finalize and the segment manifests share, and the segment a scheduler assigns.
#pragma once

#include <optional>

#include "aws/environment.h"
#include "base/result.h"

namespace ddb2s3 {

inline constexpr int kMaxTotalSegments = 1000000;  // DynamoDB's limit on TotalSegments

// total_segments in 1..kMaxTotalSegments and, when set, segment in 0..total_segments - 1; else a usage
// error naming the one at fault in its message and in Error::field ("total_segments" or "segment").
Status check_segments(int total_segments, std::optional<int> segment);

// The variables that schedulers of array jobs set to a task's 0-based index, as segment 'auto' reads them.
inline constexpr const char* kSchedulerIndexVariables[] = {
    "JOB_COMPLETION_INDEX",       // Kubernetes Indexed Job
    "AWS_BATCH_JOB_ARRAY_INDEX",  // AWS Batch array job
    "SLURM_ARRAY_TASK_ID",        // Slurm job array (0-based only when submitted as --array=0-N)
};

// This process's segment from its scheduler's index (segment 'auto'): the one of kSchedulerIndexVariables
// that is set (several may be, with the same value). A usage error (Error::field "segment", or
// "total_segments" for a total out of DynamoDB's range) when none is set (naming all three), when the value
// is not a number or not in 0..total_segments - 1 (naming the variable and its value), or when two are set
// to different values.
Result<int> segment_from_scheduler(const Environment& env, int total_segments);

}  // namespace ddb2s3

// The one check of a parallel scan's total_segments and segment, and the segment a scheduler assigns.
#include "scan/parallel.h"

#include <charconv>
#include <cstdint>
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

namespace {

Error auto_error(std::string message, std::string hint = {}) {
  Error e = Error::usage("segment 'auto': " + std::move(message)).with_field("segment");
  e.hint = std::move(hint);
  return e;
}

}  // namespace

Result<int> segment_from_scheduler(const Environment& env, int total_segments) {
  DDB2S3_RETURN_IF_ERROR(check_segments(total_segments, std::nullopt));
  std::optional<uint64_t> index;
  std::string found;  // NAME='value' of the variable that gave index
  for (const char* name : kSchedulerIndexVariables) {
    const std::optional<std::string> value = env.get(name);
    if (!value) continue;
    const std::string shown = std::string(name) + "='" + *value + "'";
    if (value->find_first_not_of("0123456789") != std::string::npos)
      return auto_error(shown + " is not an index (a number from 0)");
    uint64_t n = 0;
    if (std::from_chars(value->data(), value->data() + value->size(), n).ec == std::errc::result_out_of_range)
      n = UINT64_MAX;  // out of range below, as given
    if (index && *index != n)
      return auto_error(found + " and " + shown + " disagree: unset the one that is not this job's");
    if (!index) found = shown;
    index = n;
  }
  if (!index)
    return auto_error(
        "none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array "
        "job) or SLURM_ARRAY_TASK_ID (Slurm job array) is set",
        "run it as one task of an array job, or give segment as a number");
  if (*index >= static_cast<uint64_t>(total_segments))
    return auto_error(found + " is out of range: segment must be from 0 to total_segments - 1 (" +
                          std::to_string(total_segments - 1) + ")",
                      "the array job's size (completions, array size) must equal total_segments");
  return static_cast<int>(*index);
}

}  // namespace ddb2s3

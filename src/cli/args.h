// What the command line needs beyond CLI11: sizes with units, boto3-style plain JSON values,
// the operator's dynamodb_scan_kwargs, each checked before any AWS call, and the library's errors
// in the words of the command line (its flags).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "scan/scan.h"

namespace ddb2s3::cli {

// "1000", "64MiB", "1GB", "512k", "1.5GiB": decimal units (KB, MB, GB, TB) and binary ones (KiB, MiB...);
// a bare number is bytes; a unit's B and case are optional (64m = 64MB). Zero or junk is a usage error.
Result<uint64_t> parse_size(std::string_view text);

// A number of seconds from 0 to max, fractions allowed ("30", "0.5"); else a usage error naming flag.
Result<double> parse_seconds(std::string_view text, std::string_view flag, double max);

// Plain JSON values marshalled like boto3's TypeSerializer: a number -> {"N":"<digits as written>"},
// a string -> S, true/false -> BOOL, null -> NULL, an array -> L, an object -> M. Input: a JSON object
// (e.g. --values '{":min": 5}'); output: the typed object. Bad JSON is a usage error saying where.
Result<std::string> marshal_plain_values(std::string_view json);

// --names: a JSON object of strings (ExpressionAttributeNames, e.g. '{"#s":"status"}'), returned as written.
Result<std::string> attribute_names(std::string_view json, std::string_view flag = "--names");

// Which Scan fields came from flags, so that --scan-kwargs giving one of them again is an error.
struct GivenFlags {
  std::map<std::string, std::string> fields;  // Scan field (FilterExpression, Segment...) -> its flag
  void add(const std::string& field, const std::string& flag) { fields[field] = flag; }
};

// Applies --scan-kwargs (any Scan field in the low-level typed form) to options: the known fields go to their
// places (Segment/TotalSegments to the run's segments, range-checked), the rest into request.extra_json as
// written. A field that a flag also gave is a usage error naming both; so is a TableName other than TABLE.
Status apply_scan_kwargs(std::string_view json, const GivenFlags& flags, ScanOptions& options);

// One setting as a command's flag and as the library names it: its options member (in the library's
// messages and Error::field) and, for a request field, the AWS name (e.g. --total-segments, total_segments,
// TotalSegments). `option` may be a phrase ("export_type INCREMENTAL_EXPORT" is --incremental).
struct FlagName {
  std::string_view flag;
  std::string_view option;     // empty: the library has no name for it
  std::string_view aws_field;  // empty: not a request field
};

// e in the command's words: when e.field is an option or AWS field of `names`, each whole-word option name
// in its message and hint (outside '...' quotes, which hold what the user gave) becomes its flag.
Error in_flag_words(Error e, const std::vector<FlagName>& names);

// Prints e (in flag words) and returns its exit code: 2 for a usage error, else 1.
int fail(const Error& e, const std::vector<FlagName>& names);

}  // namespace ddb2s3::cli

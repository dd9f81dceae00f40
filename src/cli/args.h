// What the command line needs beyond CLI11: sizes with units, boto3-style plain JSON values,
// the operator's dynamodb_scan_kwargs and S3 ExtraArgs, each checked before any AWS call.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"
#include "scan/scan.h"

namespace ddb2s3::cli {

// "1000", "64MiB", "1GB", "512k", "1.5GiB": decimal units (KB, MB, GB, TB) and binary ones (KiB, MiB...);
// a bare number is bytes; a unit's B and case are optional (64m = 64MB). Zero or junk is a usage error.
Result<uint64_t> parse_size(std::string_view text);

// Plain JSON values marshalled like boto3's TypeSerializer: a number -> {"N":"<digits as written>"},
// a string -> S, true/false -> BOOL, null -> NULL, an array -> L, an object -> M. Input: a JSON object
// (e.g. --values '{":min": 5}'); output: the typed object.
Result<std::string> marshal_plain_values(std::string_view json);

// Which Scan fields came from flags, so that --scan-kwargs giving one of them again is an error.
struct GivenFlags {
  std::set<std::string> fields;  // Scan field names: FilterExpression, IndexName, Segment...
  void add(const std::string& field) { fields.insert(field); }
};

// Applies --scan-kwargs (any Scan field in the low-level typed form) to options: the known fields go to
// their places (Segment/TotalSegments to the run's segments), the rest into request.extra_json. A field
// that a flag also gave is a usage error naming both; so is a TableName other than TABLE.
Status apply_scan_kwargs(std::string_view json, const GivenFlags& flags, ScanOptions& options);

// The flag a Scan field is set with, for messages ("FilterExpression" -> "--filter").
std::string flag_for_field(std::string_view field);

}  // namespace ddb2s3::cli

// A verify report (VerifyReport) as `ddb2s3 verify` prints it: one line per problem and a result line, or
// one JSON object with --json.
#pragma once

#include <string>

#include "scan/verify.h"

namespace ddb2s3 {

// One line per problem ("s3://b/p/R/data/0000-00001.json.gz: MD5 differs: expected X, found Y"), then the
// result line ("verified: 3 files, 300 items (...) in run R at DEST: OK", or "...: FAILED: 2 problems").
std::string verify_report_text(const VerifyReport& report);

// {"run":..,"destination":..,"files":N,"items":N,"bytes":N,"deep":..,"ok":..,"checks":[..],
//  "problems":[{"key":..,"problem":..,"expected":..,"found":..}],...}
std::string verify_report_json(const VerifyReport& report);

}  // namespace ddb2s3

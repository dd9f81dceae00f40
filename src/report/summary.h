// The summary of a run (ScanSummary) as the one JSON object that `--json` prints.
#pragma once

#include <string>

#include "scan/scan.h"

namespace ddb2s3 {

// {"runId":..,"table":..,...,"files":[{"key":..,"itemCount":..,"size":..,"md5Checksum":..,"etag":..}]}
std::string summary_json(const ScanSummary& summary);

}  // namespace ddb2s3

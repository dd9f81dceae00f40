// A verify report as text lines or as one JSON object.
#include "report/verify_report.h"

#include <cstdio>

#include "base/json_writer.h"
#include "report/progress.h"

namespace ddb2s3 {

std::string verify_report_text(const VerifyReport& r) {
  std::string out;
  for (const VerifyProblem& p : r.problems) {
    out += r.bucket.empty() ? p.key : "s3://" + r.bucket + "/" + p.key;
    out += ": " + p.problem;
    if (!p.expected.empty() && !p.found.empty())
      out += ": expected " + p.expected + ", found " + p.found;
    else if (!p.found.empty())
      out += ": " + p.found;
    else if (!p.expected.empty())
      out += ": expected " + p.expected;
    out += '\n';
  }
  out += r.ok() ? "verified: " : "verify: ";
  out += format_count(r.files) + " files, " + format_count(r.items) + " items, " + format_bytes(r.bytes);
  if (r.deep) {
    char rate[64];
    const double mb_per_s = r.seconds > 0 ? static_cast<double>(r.bytes_read) / 1e6 / r.seconds : 0;
    std::snprintf(rate, sizeof rate, "%.1f s, %.1f MB/s", r.seconds, mb_per_s);
    out += " (deep: " + format_count(r.lines) + " lines read and parsed, " + rate + ")";
  }
  out += " in run " + r.run_id + " at " + r.destination + ": ";
  out += r.ok() ? "OK"
                : "FAILED: " + std::to_string(r.problems.size()) +
                      (r.problems.size() == 1 ? " problem" : " problems");
  out += '\n';
  return out;
}

std::string verify_report_json(const VerifyReport& r) {
  std::string out;
  JsonObjectWriter w(out);
  w.string("run", r.run_id);
  w.string("destination", r.destination);
  w.raw("deep", r.deep ? "true" : "false");
  w.raw("ok", r.ok() ? "true" : "false");
  w.number("files", r.files);
  w.number("items", r.items);
  w.number("bytes", r.bytes);
  if (r.deep) {
    w.number("lines", r.lines);
    w.number("bytesRead", r.bytes_read);
  }
  w.number("seconds", r.seconds);
  w.array("checks", r.checks, [](std::string& o, const std::string& c) { append_json_string(o, c); });
  w.array("problems", r.problems, [](std::string& o, const VerifyProblem& p) {
    JsonObjectWriter problem(o);
    problem.string("key", p.key);
    problem.string("problem", p.problem);
    problem.string("expected", p.expected);
    problem.string("found", p.found);
    problem.close();
  });
  w.close();
  return out;
}

}  // namespace ddb2s3

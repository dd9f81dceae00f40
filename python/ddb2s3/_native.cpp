// ddb2s3._native: the library under Python (pybind11). Each call takes a command's argument list, built by
// ddb2s3/__init__.py from keyword arguments, parses it with the program's own parser (cli/parse.h), sets the
// explicit keys, and runs the command on a native thread with the GIL released while the calling thread
// waits, runs Python's signal handlers (Ctrl-C) and the progress callback. It returns what the program
// prints with --json; errors become ddb2s3.Error (built by ddb2s3._errors.from_native).
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/parse.h"
#include "report/summary.h"
#include "report/verify_report.h"
#include "scan/parallel.h"
#include "version.h"

namespace py = pybind11;

namespace ddb2s3::python {
namespace {

// How often the waiting thread wakes to run Python's signal handlers.
constexpr auto kSignalCheck = std::chrono::milliseconds(50);

// Text from the library (server messages may hold anything) as a Python str: bad UTF-8 replaced.
py::str text(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kClient:
      return "client";
    case ErrorKind::kThrottling:
      return "throttling";
    case ErrorKind::kTransient:
      return "transient";
    case ErrorKind::kCancelled:
      return "cancelled";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

// Raises the ddb2s3.Error subclass for e; `extra` adds fields (an ExportError's description).
[[noreturn]] void raise_error(const Error& e, py::dict extra = py::dict()) {
  py::dict info;
  info["kind"] = kind_name(e.kind);
  info["code"] = text(e.code);
  info["message"] = text(e.message);
  info["http_status"] = e.http_status;
  info["request_id"] = text(e.request_id);
  info["operation"] = text(e.operation);
  info["resource"] = text(e.resource);
  info["hint"] = text(e.hint);
  info["field"] = text(e.field);
  info["text"] = text(e.to_string());
  for (auto item : extra) info[item.first] = item.second;
  py::object exc = py::module_::import("ddb2s3._errors").attr("from_native")(info);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

// The explicit keys of one side: credentials[side] = {"access_key_id": ..., ...} (missing: unset).
void set_keys(AwsOptions& options, const py::dict& credentials, const char* side) {
  if (!credentials.contains(side)) return;
  const py::dict keys = credentials[side];
  auto get = [&](const char* name, std::string& target) {
    if (keys.contains(name) && !keys[name].is_none()) target = keys[name].cast<std::string>();
  };
  get("access_key_id", options.access_key_id);
  get("secret_access_key", options.secret_access_key);
  get("session_token", options.session_token);
}

// One DescribeExport as the progress callback gets it.
struct PollSnapshot {
  std::string status;  // empty when the poll failed (throttled; waiting goes on)
  std::string export_arn;
  int attempt = 0;
  int max_attempts = 0;
  double elapsed_seconds = 0;
};

// A command running on a native thread while the calling thread, which holds the GIL, waits for it.
class NativeRun {
 public:
  std::atomic<bool> cancel{false};

  // From the run's thread: one poll for the progress callback.
  void post(PollSnapshot poll) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      polls_.push_back(std::move(poll));
    }
    wake_.notify_all();
  }

  // Runs work on a native thread with the GIL released and returns when it has ended. Meanwhile the calling
  // thread wakes every kSignalCheck, at each posted poll (on_poll) and every interval seconds (on_tick) and
  // runs Python's signal handlers. An exception there (Ctrl-C's KeyboardInterrupt, or one raised by a
  // callback) sets cancel, waits for work to end (uploads aborted) and is re-raised.
  void run(const std::function<void()>& work, double interval, const std::function<void()>& on_tick,
           const std::function<void(const PollSnapshot&)>& on_poll) {
    std::exception_ptr work_failed;
    std::thread thread([&] {
      try {
        work();
      } catch (...) {
        work_failed = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_ = true;
      }
      wake_.notify_all();
    });
    try {
      wait_loop(interval, on_tick, on_poll);
    } catch (...) {
      cancel = true;
      const std::exception_ptr raised = std::current_exception();
      finish(thread);
      std::rethrow_exception(raised);
    }
    finish(thread);
    if (work_failed) std::rethrow_exception(work_failed);
  }

 private:
  void wait_loop(double interval, const std::function<void()>& on_tick,
                 const std::function<void(const PollSnapshot&)>& on_poll) {
    using Clock = std::chrono::steady_clock;
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
    auto next_tick = Clock::now() + period;
    for (;;) {
      bool done = false;
      std::deque<PollSnapshot> polls;
      {
        py::gil_scoped_release release;
        std::unique_lock<std::mutex> lock(mutex_);
        auto until = Clock::now() + kSignalCheck;
        if (on_tick && next_tick < until) until = next_tick;
        wake_.wait_until(lock, until, [&] { return done_ || !polls_.empty(); });
        done = done_;
        polls.swap(polls_);
      }
      if (on_poll)
        for (const PollSnapshot& p : polls) on_poll(p);
      if (done) return;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (on_tick && Clock::now() >= next_tick) {
        on_tick();
        next_tick = Clock::now() + period;
      }
    }
  }

  // Waits (GIL released: process_func may still need it) until work has ended, then joins its thread.
  void finish(std::thread& thread) {
    py::gil_scoped_release release;
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return done_; });
    lock.unlock();
    thread.join();
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::deque<PollSnapshot> polls_;
};

py::dict scan_counters(const ScanProgress& p) {
  py::dict d;
  d["items"] = p.items.load();
  d["scanned"] = p.scanned.load();
  d["scan_bytes"] = p.scan_bytes.load();
  d["stored_bytes"] = p.stored_bytes.load();
  d["files"] = p.files.load();
  d["pages"] = p.pages.load();
  d["consumed_rcu"] = p.consumed_rcu.load();
  d["throttles"] = p.throttles.load();
  d["segments_done"] = p.segments_done.load();
  d["segments_total"] = p.segments_total;
  return d;
}

// process_func on the scan's worker threads: the item's dynamodb-json line -> item_from_line (the
// TypeDeserializer's dict) -> process_func -> its bytes appended. The first exception is kept for the caller
// and cancels the run; later items are dropped.
class ItemFunction {
 public:
  ItemFunction(py::object process_func, py::object item_from_line, std::atomic<bool>& cancel)
      : process_func_(std::move(process_func)), item_from_line_(std::move(item_from_line)), cancel_(cancel) {}
  ~ItemFunction() {
    py::gil_scoped_acquire gil;  // the Python objects are released with the GIL held
    failure_.reset();
    process_func_ = py::object();
    item_from_line_ = py::object();
  }

  void operator()(std::string_view line, std::string& out) {
    if (cancel_.load()) return;
    py::gil_scoped_acquire gil;
    try {
      py::object item = item_from_line_(py::bytes(line.data(), line.size()));
      py::object result = process_func_(item);
      append_bytes(result, out);
    } catch (py::error_already_set& e) {
      fail(std::move(e));
    }
  }

  // The exception process_func raised, if any (call with the GIL held).
  std::optional<py::error_already_set>& failure() { return failure_; }

 private:
  static void append_bytes(const py::object& result, std::string& out) {
    PyObject* r = result.ptr();
    if (PyBytes_Check(r)) {
      out.append(PyBytes_AS_STRING(r), static_cast<size_t>(PyBytes_GET_SIZE(r)));
      return;
    }
    if (!PyUnicode_Check(r) && PyObject_CheckBuffer(r)) {  // bytearray, memoryview
      Py_buffer view;
      if (PyObject_GetBuffer(r, &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
      out.append(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
      PyBuffer_Release(&view);
      return;
    }
    PyErr_Format(PyExc_TypeError, "process_func must return bytes, not %s", Py_TYPE(r)->tp_name);
    throw py::error_already_set();
  }

  void fail(py::error_already_set e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_) failure_.emplace(std::move(e));
    cancel_ = true;
  }

  py::object process_func_, item_from_line_;
  std::atomic<bool>& cancel_;
  std::mutex mutex_;
  std::optional<py::error_already_set> failure_;
};

py::str scan(const std::vector<std::string>& args, const py::dict& credentials, py::object process_func,
             py::object item_from_line, py::object progress, double progress_interval) {
  auto parsed = cli::parse_scan_args(args);
  if (!parsed) raise_error(parsed.error());
  ScanOptions o = std::move(parsed).value();
  set_keys(o.source, credentials, "source");
  set_keys(o.dest_aws, credentials, "dest");
  NativeRun run;
  o.cancel = &run.cancel;
  ScanProgress counters;
  o.progress = &counters;
  std::optional<ItemFunction> items;
  if (!process_func.is_none()) {
    o.format = OutputFormat::kDynamoDbJson;  // lossless and typed: what the TypeDeserializer's dict needs
    items.emplace(std::move(process_func), std::move(item_from_line), run.cancel);
    o.item_callback = [&items](std::string_view line, std::string& out) { (*items)(line, out); };
  }
  std::function<void()> tick;
  if (!progress.is_none()) tick = [&] { progress(scan_counters(counters)); };
  Result<ScanSummary> result = Error::internal("not run");
  run.run([&] { result = run_scan(std::move(o)); }, progress_interval, tick, {});
  if (items && items->failure()) {
    py::error_already_set e = std::move(*items->failure());
    items->failure().reset();
    throw e;
  }
  if (!result) raise_error(cli::scan_error_in_flag_words(result.error()));
  return text(summary_json(*result));
}

py::str finalize(const std::vector<std::string>& args, const py::dict& credentials) {
  auto parsed = cli::parse_finalize_args(args);
  if (!parsed) raise_error(parsed.error());
  FinalizeOptions o = std::move(parsed).value();
  set_keys(o.dest_aws, credentials, "dest");
  NativeRun run;
  o.cancel = &run.cancel;
  Result<ScanSummary> result = Error::internal("not run");
  run.run([&] { result = finalize_run(std::move(o)); }, 1.0, {}, {});
  if (!result) raise_error(cli::scan_error_in_flag_words(result.error()));
  return text(summary_json(*result));
}

py::str verify(const std::vector<std::string>& args, const py::dict& credentials) {
  auto parsed = cli::parse_verify_args(args);
  if (!parsed) raise_error(parsed.error());
  VerifyOptions o = std::move(parsed).value();
  set_keys(o.dest_aws, credentials, "dest");
  NativeRun run;
  o.cancel = &run.cancel;
  Result<VerifyReport> result = Error::internal("not run");
  run.run([&] { result = verify_run(std::move(o)); }, 1.0, {}, {});
  if (!result) raise_error(cli::scan_error_in_flag_words(result.error()));
  return text(verify_report_json(*result));
}

py::dict poll_dict(const PollSnapshot& p) {
  py::dict d;
  d["status"] = p.status.empty() ? py::object(py::none()) : py::object(text(p.status));
  d["attempt"] = p.attempt;
  d["max_attempts"] = p.max_attempts;
  d["elapsed_seconds"] = p.elapsed_seconds;
  d["export_arn"] = text(p.export_arn);
  return d;
}

// Raises ExportError for an export that ended FAILED or still IN_PROGRESS after max_attempts polls (its
// description, and `extra`'s fields), or the cancelled Error for one whose waiting stopped; returns for a
// COMPLETED (or started, not waited for) export. `hint` (if any) is the hint of a FAILED export's error.
void raise_unless_completed(const ExportOutcome& outcome, const WaitOptions& wait,
                            py::dict extra = py::dict(), const std::string& hint = "") {
  const ExportDescription& d = outcome.description;
  if (outcome.state == ExportState::kFailed || outcome.state == ExportState::kTimedOut) {
    Error e;
    e.kind = ErrorKind::kClient;
    e.operation = "DescribeExport";
    e.resource = d.export_arn;
    if (outcome.state == ExportState::kFailed) {
      e.code = d.failure_code.empty() ? "ExportFailed" : d.failure_code;
      e.message = "export FAILED" + (d.failure_message.empty() ? "" : ": " + d.failure_message);
      e.hint = hint;
    } else {
      e.kind = ErrorKind::kTransient;
      e.code = "ExportTimedOut";
      char interval[32];
      std::snprintf(interval, sizeof interval, "%g", wait.check_interval_seconds);
      e.message = "export is still " + d.export_status + " after " + std::to_string(outcome.polls) +
                  " polls " + interval + " s apart (--max-attempts " + std::to_string(wait.max_attempts) +
                  "); it goes on in AWS";
      e.hint = "watch it with export_status(export_arn, wait=True)" + (hint.empty() ? "" : "; " + hint);
    }
    extra["description"] = py::module_::import("json").attr("loads")(text(cli::export_json(outcome)));
    raise_error(e, extra);
  }
  if (outcome.state == ExportState::kCancelled)
    raise_error(
        Error::make(ErrorKind::kCancelled, "Cancelled", "waiting for export " + d.export_arn + " stopped"));
}

// The outcome of export or export-status: its JSON, or ExportError for FAILED and for still IN_PROGRESS after
// max_attempts polls.
py::str export_outcome(const ExportOutcome& outcome, const WaitOptions& wait) {
  raise_unless_completed(outcome, wait);
  return text(cli::export_json(outcome));
}

std::function<void(const PollSnapshot&)> poll_callback(const py::object& progress) {
  if (progress.is_none()) return {};
  return [progress](const PollSnapshot& p) { progress(poll_dict(p)); };
}

PollSnapshot snapshot(const ExportPoll& p, const std::string& arn) {
  PollSnapshot s;
  if (p.description != nullptr) s.status = p.description->export_status;
  s.export_arn =
      p.description != nullptr && !p.description->export_arn.empty() ? p.description->export_arn : arn;
  s.attempt = p.attempt;
  s.max_attempts = p.max_attempts;
  s.elapsed_seconds = p.elapsed_seconds;
  return s;
}

// Progress of an export's waiting (ExportOptions::on_started and on_poll, called on the run's thread) posted
// to the calling thread: once as it starts (attempt 0), then at each DescribeExport.
void post_export_progress(ExportOptions& o, NativeRun& run) {
  // Written by on_started, read by on_poll: both on the run's thread.
  auto arn = std::make_shared<std::string>();
  const int max_attempts = o.wait ? o.wait_options.max_attempts : 0;
  o.on_started = [&run, arn, max_attempts](const ExportOutcome& started) {
    *arn = started.description.export_arn;
    PollSnapshot s;
    s.status = started.description.export_status;
    s.export_arn = *arn;
    s.max_attempts = max_attempts;
    run.post(std::move(s));
  };
  o.on_poll = [&run, arn](const ExportPoll& p) { run.post(snapshot(p, *arn)); };
}

py::str export_table(const std::vector<std::string>& args, const py::dict& credentials, py::object progress) {
  auto parsed = cli::parse_export_args(args);
  if (!parsed) raise_error(parsed.error());
  ExportOptions o = std::move(parsed).value();
  set_keys(o.source, credentials, "source");
  NativeRun run;
  o.cancel = &run.cancel;
  post_export_progress(o, run);
  Result<ExportOutcome> result = Error::internal("not run");
  run.run([&] { result = run_export(o); }, 1.0, {}, poll_callback(progress));
  if (!result) raise_error(cli::export_error_in_flag_words(result.error()));
  return export_outcome(*result, o.wait_options);
}

// One run of the incremental chain (`export --chain`): what `export --chain --json` prints. An export of the
// chain that FAILED, timed out or was interrupted (nothing recorded for it) raises as export() does, with the
// chain's JSON as `chain` besides the export's `description`.
py::str export_chain(const std::vector<std::string>& args, const py::dict& credentials, py::object progress) {
  auto parsed = cli::parse_export_chain_args(args);
  if (!parsed) raise_error(parsed.error());
  ChainRunOptions o = std::move(parsed).value();
  set_keys(o.exports.source, credentials, "source");
  set_keys(o.s3, credentials, "dest");
  NativeRun run;
  o.exports.cancel = &run.cancel;
  post_export_progress(o.exports, run);
  Result<ChainRunOutcome> result = Error::internal("not run");
  run.run([&] { result = run_chain(o); }, 1.0, {}, poll_callback(progress));
  if (!result) raise_error(cli::export_error_in_flag_words(result.error()));
  const ChainRunOutcome& r = *result;
  const py::str json = text(cli::chain_json(r));
  if (r.action == ChainAction::kFailed && !r.exports.empty()) {
    const std::string hint =
        r.state.table.empty()
            ? "no chain was started (nothing was recorded); the next run makes the base again"
            : "the chain stays at " + format_time(r.state.through()) +
                  " (nothing was recorded for this export); the next run covers the same window again";
    py::dict extra;
    extra["chain"] = py::module_::import("json").attr("loads")(json);
    raise_unless_completed(r.exports.back(), o.exports.wait_options, extra, hint);
  }
  return json;
}

py::str export_status(const std::vector<std::string>& args, const py::dict& credentials,
                      py::object progress) {
  auto parsed = cli::parse_export_status_args(args);
  if (!parsed) raise_error(parsed.error());
  ExportStatusOptions o = std::move(parsed).value();
  set_keys(o.source, credentials, "source");
  NativeRun run;
  o.cancel = &run.cancel;
  o.on_poll = [&run, arn = o.export_arn](const ExportPoll& p) { run.post(snapshot(p, arn)); };
  Result<ExportOutcome> result = Error::internal("not run");
  run.run([&] { result = ddb2s3::export_status(o); }, 1.0, {}, poll_callback(progress));
  if (!result) raise_error(cli::export_error_in_flag_words(result.error()));
  return export_outcome(*result, o.wait_options);
}

int segment_from_environment(int total_segments) {
  auto segment = segment_from_scheduler(Environment::process(), total_segments);
  if (!segment) raise_error(cli::scan_error_in_flag_words(segment.error()));
  return *segment;
}

}  // namespace
}  // namespace ddb2s3::python

PYBIND11_MODULE(_native, m) {
  using namespace ddb2s3::python;
  m.doc() = "ddb2s3's library (use the package ddb2s3, not this module)";
  m.attr("version") = DDB2S3_VERSION;
  m.def("scan", &scan, py::arg("args"), py::arg("credentials"), py::arg("process_func"),
        py::arg("item_from_line"), py::arg("progress"), py::arg("progress_interval"));
  m.def("finalize", &finalize, py::arg("args"), py::arg("credentials"));
  m.def("verify", &verify, py::arg("args"), py::arg("credentials"));
  m.def("export", &export_table, py::arg("args"), py::arg("credentials"), py::arg("progress"));
  m.def("export_chain", &export_chain, py::arg("args"), py::arg("credentials"), py::arg("progress"));
  m.def("export_status", &export_status, py::arg("args"), py::arg("credentials"), py::arg("progress"));
  m.def("command_flags", [](const std::string& command) { return ddb2s3::cli::command_flags(command); });
  m.def("segment_from_environment", &segment_from_environment, py::arg("total_segments"));
}

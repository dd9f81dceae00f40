// Errors as values: every call that can fail returns Result<T> (or Status).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ddb2s3 {

// How a failure should be treated by retry logic and by the CLI's exit code.
enum class ErrorKind {
  kClient,      // the request is wrong (validation, not found, access denied): never retried
  kThrottling,  // slow down and retry (ProvisionedThroughputExceeded, SlowDown, 503...)
  kTransient,   // retry (500/502/504, connection reset/refused, timeout, CRC mismatch)
  kUsage,       // bad command-line or option value: exit 2, before any AWS call
  kCancelled,   // Ctrl-C or another worker failed
  kIo,          // local file system
  kInternal,    // a bug or an unexpected answer
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  int http_status = 0;     // 0 when no HTTP answer was had
  std::string code;        // AWS error code, e.g. ResourceNotFoundException, or ours
  std::string message;     // AWS error message, or ours
  std::string request_id;  // x-amzn-RequestId / x-amz-request-id
  std::string operation;   // Scan, PutObject, AssumeRole...
  std::string resource;    // table name, s3://bucket/key, profile...
  std::string hint;        // what the user can do
  // The option or request field at fault, in the library's words, e.g. total_segments, file_size, Limit,
  // kwargs; empty when no option is at fault (an AWS refusal, a network failure). Such an error's message
  // and hint name options by these names only, as whole words, and quote user text in '...', so that a
  // caller can put its own names for them (the CLI puts its flags).
  std::string field;

  // One line for humans: "Scan on table 'x' failed: ResourceNotFoundException: ... (HTTP 400, request id
  // ...). Hint"
  std::string to_string() const;
  bool retryable() const { return kind == ErrorKind::kThrottling || kind == ErrorKind::kTransient; }

  static Error usage(std::string message) {
    return make(ErrorKind::kUsage, "UsageError", std::move(message));
  }
  static Error internal(std::string message) {
    return make(ErrorKind::kInternal, "InternalError", std::move(message));
  }
  static Error io(std::string message) { return make(ErrorKind::kIo, "IoError", std::move(message)); }
  static Error make(ErrorKind kind, std::string code, std::string message) {
    Error e;
    e.kind = kind;
    e.code = std::move(code);
    e.message = std::move(message);
    return e;
  }
  // Names the option at fault (see field).
  Error&& with_field(std::string name) && {
    field = std::move(name);
    return std::move(*this);
  }
  // Adds context when the error crosses a layer that knows more (operation, resource).
  Error&& with_context(std::string op, std::string res) && {
    if (operation.empty()) operation = std::move(op);
    if (resource.empty()) resource = std::move(res);
    return std::move(*this);
  }
};

// A value or an Error, like std::expected (C++23) in the subset we use.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ddb2s3

// Propagation, in the spirit of Arrow's ARROW_RETURN_NOT_OK and ARROW_ASSIGN_OR_RAISE.
//
// DDB2S3_RETURN_IF_ERROR(expr): evaluates a Status (or any Result) and returns its Error from the enclosing
// function when it failed.
#define DDB2S3_RETURN_IF_ERROR(expr)                                    \
  do {                                                                  \
    auto&& ddb2s3_status_ = (expr);                                     \
    if (!ddb2s3_status_.ok()) return std::move(ddb2s3_status_).error(); \
  } while (false)

// DDB2S3_ASSIGN_OR_RETURN(lhs, expr): evaluates a Result<T>; returns its Error when it failed, else moves its
// value into lhs, which may declare a variable (`auto x`, `std::string x`) or name an existing one. lhs
// must not contain a top-level comma.
#define DDB2S3_ASSIGN_OR_RETURN(lhs, expr) \
  DDB2S3_ASSIGN_OR_RETURN_IMPL(DDB2S3_RESULT_CONCAT(ddb2s3_result_, __COUNTER__), lhs, expr)

#define DDB2S3_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).error();      \
  lhs = std::move(tmp).value()

#define DDB2S3_RESULT_CONCAT_INNER(a, b) a##b
#define DDB2S3_RESULT_CONCAT(a, b) DDB2S3_RESULT_CONCAT_INNER(a, b)

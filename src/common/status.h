// Status and Result<T>: how every dts function reports failure. No exceptions cross module
// boundaries; an error carries a code that tells callers what to do (retry, give up, fix input)
// and a message that names what failed and where, in words an operator understands.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dts {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // bad input from the user (task file, flags); fix the input
    kNotFound,            // a named thing does not exist
    kCorruption,          // bytes that do not decode (binlog, file); never retried
    kUnavailable,         // connection lost or refused; retryable
    kUnsupported,         // a feature or server setting dts does not handle
    kFailedPrecondition,  // the world is not in the state needed (precheck)
    kAborted,             // stopped on request
    kInternal,            // a dts bug: an invariant broke
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) {
    return Status(Code::kFailedPrecondition, std::move(msg));
  }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool isRetryable() const { return code_ == Code::kUnavailable; }

  // "corruption: bad checksum at mysql-bin.000001:1234"
  std::string toString() const;
  static const char* codeName(Code code);

  // Prefixes the message with context, keeping the code: "reading node-2: " + message.
  Status withContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

namespace internal {
// Prints "dts: internal error: value of an error Result: <status>" to stderr and aborts.
[[noreturn]] void dieOnErrorValue(const Status& status);
}  // namespace internal

// A value or an error Status (never an OK status without a value).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok())
      status_ = Status::Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok(). Reading the value of an error is a dts bug: it aborts the process, naming
  // the error, in every build type (never undefined behaviour).
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T&& operator*() && { return std::move(checked()); }

 private:
  T& checked() {
    if (!value_.has_value()) internal::dieOnErrorValue(status_);
    return *value_;
  }
  const T& checked() const {
    if (!value_.has_value()) internal::dieOnErrorValue(status_);
    return *value_;
  }

 public:
 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace dts

// Returns from the enclosing function when the expression yields a non-OK Status.
#define DTS_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::dts::Status dts_status_ = (expr);        \
    if (!dts_status_.ok()) return dts_status_; \
  } while (0)

#define DTS_CONCAT_INNER(a, b) a##b
#define DTS_CONCAT(a, b) DTS_CONCAT_INNER(a, b)
// DTS_ASSIGN_OR_RETURN(auto x, makeX()); declares x from a Result or returns its error.
#define DTS_ASSIGN_OR_RETURN(lhs, expr) \
  DTS_ASSIGN_OR_RETURN_IMPL(DTS_CONCAT(dts_result_, __LINE__), lhs, expr)
#define DTS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

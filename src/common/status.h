// Status and Result<T>: Kino's error values. Kino's code throws no exceptions; every operation
// that can fail returns one of these.
//
// A Status is either OK (no allocation, one null pointer) or carries a code, a message for
// humans, and optionally an API error code that the HTTP layer puts in the response envelope
// (see docs/api-errors.md). Lower layers add context with Annotate() rather than logging.
//
// Thread-safety: values; copy freely, share nothing.
#ifndef KINO_COMMON_STATUS_H_
#define KINO_COMMON_STATUS_H_

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kino {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed (HTTP 400)
  kUnauthenticated,     // missing or bad credentials (401)
  kPermissionDenied,    // valid credentials, not allowed (403)
  kNotFound,            // no such thing (404)
  kAlreadyExists,       // conflicts with an existing thing (409)
  kFailedPrecondition,  // the thing is in the wrong state for this (4xx chosen by API code)
  kOutOfRange,          // e.g. an unsatisfiable byte range (416)
  kResourceExhausted,   // a size or count limit was passed (413 / 429)
  kDeadlineExceeded,    // a timeout
  kCancelled,           // the operation was cancelled (client gone, shutdown)
  kUnavailable,         // a dependency is down; retrying may help
  kDataLoss,            // stored data is corrupt
  kUnimplemented,       // not supported
  kInternal,            // a bug or an unexpected failure
};

// Returns a stable lower-case name such as "not_found".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, int api_code = 0);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // The error code for the API envelope, or 0 when the mapping should use the default for code().
  int api_code() const { return state_ ? state_->api_code : 0; }

  // Prefixes the message with context ("reading upload: ..."). No effect on OK.
  Status& Annotate(std::string_view context);

  // "not_found: video abc not found" or "ok".
  std::string ToString() const;

  // Explicitly ignores the value, for the rare place where failure truly does not matter.
  void IgnoreError() const {}

 private:
  struct State {
    StatusCode code;
    std::string message;
    int api_code;
  };
  std::unique_ptr<State> state_;
};

inline Status InvalidArgument(std::string msg, int api_code = 0) {
  return Status(StatusCode::kInvalidArgument, std::move(msg), api_code);
}
inline Status NotFound(std::string msg, int api_code = 0) {
  return Status(StatusCode::kNotFound, std::move(msg), api_code);
}
inline Status FailedPrecondition(std::string msg, int api_code = 0) {
  return Status(StatusCode::kFailedPrecondition, std::move(msg), api_code);
}
inline Status Internal(std::string msg) {
  return Status(StatusCode::kInternal, std::move(msg));
}
inline Status Unavailable(std::string msg) {
  return Status(StatusCode::kUnavailable, std::move(msg));
}
inline Status Unauthenticated(std::string msg, int api_code = 0) {
  return Status(StatusCode::kUnauthenticated, std::move(msg), api_code);
}
inline Status PermissionDenied(std::string msg, int api_code = 0) {
  return Status(StatusCode::kPermissionDenied, std::move(msg), api_code);
}
inline Status ResourceExhausted(std::string msg, int api_code = 0) {
  return Status(StatusCode::kResourceExhausted, std::move(msg), api_code);
}
inline Status OutOfRange(std::string msg) {
  return Status(StatusCode::kOutOfRange, std::move(msg));
}
inline Status DataLoss(std::string msg) {
  return Status(StatusCode::kDataLoss, std::move(msg));
}
inline Status AlreadyExists(std::string msg, int api_code = 0) {
  return Status(StatusCode::kAlreadyExists, std::move(msg), api_code);
}
inline Status Cancelled(std::string msg) {
  return Status(StatusCode::kCancelled, std::move(msg));
}
inline Status DeadlineExceeded(std::string msg) {
  return Status(StatusCode::kDeadlineExceeded, std::move(msg));
}
inline Status Unimplemented(std::string msg) {
  return Status(StatusCode::kUnimplemented, std::move(msg));
}

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): a T converts implicitly, as with std::optional.
  Result(T value) : value_(std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor): so does a failed Status.
  Result(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "Result built from an OK Status has no value");
    if (status_.ok()) {
      status_ = Internal("Result built from an OK status");
    }
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  Status TakeStatus() { return std::move(status_); }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace kino

#define KINO_CONCAT_INNER_(a, b) a##b
#define KINO_CONCAT_(a, b) KINO_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
// The variable's name is unique per expansion so that the macro nests (inside a lambda that is
// itself inside the macro's argument) without shadowing.
#define KINO_RETURN_IF_ERROR(expr) \
  KINO_RETURN_IF_ERROR_IMPL_(KINO_CONCAT_(kino_status_, __COUNTER__), expr)
#define KINO_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                        \
    ::kino::Status tmp = (expr);              \
    if (!tmp.ok()) {                          \
      return tmp;                             \
    }                                         \
  } while (false)

// `KINO_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result, or returns its Status.
#define KINO_ASSIGN_OR_RETURN(lhs, expr) \
  KINO_ASSIGN_OR_RETURN_IMPL_(KINO_CONCAT_(kino_result_, __COUNTER__), lhs, expr)
#define KINO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) {                                  \
    return tmp.TakeStatus();                        \
  }                                                 \
  lhs = std::move(tmp).value()

#endif  // KINO_COMMON_STATUS_H_

// Status and Result<T>: the error channel of the whole project.
//
// Every user-facing message says what went wrong (naming the layer, class or
// tensor), why, and how to fix it. Context is prepended at each level with
// WithContext so the final message reads outermost-first.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace k2l {

enum class StatusCode {
  kOk = 0,
  // The input is malformed, unsupported or contradicts itself. CLI exit 2.
  kInvalidInput,
  // A bug or an environment failure (disk full, ...). CLI exit 1.
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string msg) {
    return Status(StatusCode::kInvalidInput, std::move(msg));
  }
  static Status Internal(std::string msg) {
    return Status(StatusCode::kInternal, std::move(msg));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message starts with `context: `.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(StatusCode code, std::string msg)
      : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace k2l

#define K2L_CONCAT_INNER(a, b) a##b
#define K2L_CONCAT(a, b) K2L_CONCAT_INNER(a, b)

// Returns early from the enclosing function if `expr` is not ok.
#define K2L_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::k2l::Status k2l_status_ = (expr);        \
    if (!k2l_status_.ok()) return k2l_status_; \
  } while (0)

#define K2L_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// `K2L_ASSIGN_OR_RETURN(auto x, F());` binds x to the value of F() or returns
// its error.
#define K2L_ASSIGN_OR_RETURN(lhs, expr) \
  K2L_ASSIGN_OR_RETURN_IMPL(K2L_CONCAT(k2l_result_, __LINE__), lhs, expr)

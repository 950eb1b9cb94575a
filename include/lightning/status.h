// Status and Result<T>: how every Lightning DB call reports success or failure.
//
// No exception crosses the public API. A call that can fail returns either a
// Status (no value) or a Result<T> (a value or a non-ok Status), both marked
// [[nodiscard]]. Result<T> is shaped like std::expected<T, Status>.
//
// Thread safety: a Status or Result is a plain value; distinct objects may be
// used from distinct threads, one object needs external synchronization.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace lightning {

class [[nodiscard]] Status {
 public:
  // DO NOT REORDER: codes are compared by tests and printed by tools.
  enum class Code : std::uint8_t {
    kOk = 0,
    kNotFound = 1,         // a named object (file, transaction, ...) is absent
    kCorruption = 2,       // stored bytes fail a checksum or a format rule
    kInvalidArgument = 3,  // the caller passed something the API rejects
    kIOError = 4,          // the operating system reported a failure
    kBusy = 5,             // the resource is held by someone else (e.g. LOCK)
    kNotSupported = 6,     // the request is valid but not offered
    kAborted = 7,          // the database refuses writes after an earlier I/O failure
    kConflict = 8,         // a transaction lost a validation race: retry it
  };

  Status() noexcept = default;  // ok

  static Status ok() noexcept { return Status(); }
  static Status not_found(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status invalid_argument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status io_error(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status not_supported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status aborted(std::string_view msg) { return Status(Code::kAborted, msg); }
  static Status conflict(std::string_view msg) { return Status(Code::kConflict, msg); }

  bool is_ok() const noexcept { return code_ == Code::kOk; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return code_; }
  bool is_not_found() const noexcept { return code_ == Code::kNotFound; }
  bool is_corruption() const noexcept { return code_ == Code::kCorruption; }
  bool is_invalid_argument() const noexcept { return code_ == Code::kInvalidArgument; }
  bool is_io_error() const noexcept { return code_ == Code::kIOError; }
  bool is_busy() const noexcept { return code_ == Code::kBusy; }
  bool is_not_supported() const noexcept { return code_ == Code::kNotSupported; }
  bool is_aborted() const noexcept { return code_ == Code::kAborted; }
  bool is_conflict() const noexcept { return code_ == Code::kConflict; }
  // Conflict or Busy: trying the same thing again later may succeed.
  bool is_retryable() const noexcept { return code_ == Code::kConflict || code_ == Code::kBusy; }

  // The human-readable detail (names the key, file or offset involved).
  const std::string& message() const noexcept { return message_; }
  // "Corruption: <message>", or "OK".
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>"; ok stays ok.
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view code_name(Status::Code code) noexcept;

// Result<T>: a T or a non-ok Status.
// REQUIRES: value()/operator*/operator-> only when has_value();
//           status() is always valid (ok when a value is held).
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status directly");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).is_ok() && "a Result holding a Status must hold an error");
    if (std::get<1>(v_).is_ok()) v_.template emplace<1>(Status::invalid_argument("ok status in Result"));
  }

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error, or Status::ok() when a value is held.
  Status status() const { return has_value() ? Status::ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lightning

// Internal convenience: return early on error.
#define LIGHTNING_RETURN_IF_ERROR(expr)            \
  do {                                             \
    ::lightning::Status _lt_st = (expr);           \
    if (!_lt_st.is_ok()) return _lt_st;            \
  } while (0)

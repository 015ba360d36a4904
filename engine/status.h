// Status and StatusOr: the one error model of Sync Manager.
//
// Every engine function that can fail returns a Status (or StatusOr<T>) with a
// Code from one enum. The server maps codes to HTTP statuses in one table
// (server/errors.cc); the command line maps them to one-line messages. No
// exception and no rocksdb::Status crosses the engine's public API.
//
// Thread-safety: values; safe to copy and move between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace syncmgr {

enum class Code {
  kOk = 0,
  kInvalidJson,          // 400 invalid_json: body is not valid JSON / UTF-8
  kInvalidArgument,      // 400 invalid_request: well-formed but not acceptable
  kUnauthorized,         // 401 unauthorized
  kForbidden,            // 403 forbidden
  kNotFound,             // 404 not_found
  kConflict,             // 409 conflict
  kMassRemoval,          // 409 mass_removal: full import would remove too much
  kPayloadTooLarge,      // 413 payload_too_large
  kUnsupportedMediaType, // 415 unsupported_media_type
  kNoSpace,              // 507 insufficient_storage
  kUnavailable,          // 503 unavailable (shutting down, overloaded)
  kTooManyRequests,      // 429 too_many_requests: a per-tenant limit (feed subscribers)
  kLagging,              // 503 lagging: cluster mode, this node's views do not reach
                         // the seq a read asked for (min_seq) in time
  kCorruption,           // 500 internal: stored data failed a check
  kInternal,             // 500 internal: anything else
};

// The stable wire name of a code ("invalid_json", "not_found", ...).
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidJson(std::string m) { return {Code::kInvalidJson, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Unauthorized(std::string m) { return {Code::kUnauthorized, std::move(m)}; }
  static Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status MassRemoval(std::string m) { return {Code::kMassRemoval, std::move(m)}; }
  static Status PayloadTooLarge(std::string m) { return {Code::kPayloadTooLarge, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status TooManyRequests(std::string m) { return {Code::kTooManyRequests, std::move(m)}; }
  static Status Lagging(std::string m) { return {Code::kLagging, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: source 3 does not exist"
  std::string ToString() const;

  // Marks a status as deliberately ignored; say why at the call site.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or an error. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace syncmgr

// Propagates a non-OK Status to the caller.
#define SYNCMGR_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::syncmgr::Status _st = (expr);            \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define SYNCMGR_CONCAT_INNER_(a, b) a##b
#define SYNCMGR_CONCAT_(a, b) SYNCMGR_CONCAT_INNER_(a, b)
// Assigns the value of a StatusOr to `lhs` or returns its error.
#define SYNCMGR_ASSIGN_OR_RETURN(lhs, expr)                              \
  auto SYNCMGR_CONCAT_(_sor_, __LINE__) = (expr);                        \
  if (!SYNCMGR_CONCAT_(_sor_, __LINE__).ok())                            \
    return SYNCMGR_CONCAT_(_sor_, __LINE__).status();                    \
  lhs = std::move(SYNCMGR_CONCAT_(_sor_, __LINE__)).value()

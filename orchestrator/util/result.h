#pragma once
// Result<T>: the value of an operation that can fail for reasons outside our control
// (I/O, libvirt, libssh, libpcap, bad input). Invariants assert instead.
// std::expected is C++23; this is the small subset we need on C++20.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace testbed::util {

/// A failure: a message for a person (what failed, the offending value, what to do),
/// carrying the library's own message where there is one.
struct Error {
  std::string message;
};

/// Builds an Error with fmt formatting: `return fail("cannot open {}: {}", path, why);`
template <typename... Args>
Error fail(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return err_; }

 private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace testbed::util

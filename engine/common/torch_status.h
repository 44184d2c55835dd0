// The engine's exception boundary: LibTorch throws, the rest of videogen
// returns absl::Status. Every call into LibTorch that can fail on user data or
// memory goes through TorchCall().
#pragma once

#include <exception>
#include "absl/strings/string_view.h"
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace videogen {

// Maps the in-flight exception to a Status: out-of-memory (c10::OutOfMemoryError,
// std::bad_alloc) -> ResourceExhausted; c10::Error -> Internal with its message
// (without the C++ backtrace); CancelledException (cancel_point.h) -> its
// Cancelled / DeadlineExceeded status; anything else -> Internal. `what`
// prefixes the message.
// Precondition: called from inside a catch block.
absl::Status StatusFromCurrentException(absl::string_view what);

// Runs `fn` and converts any exception into a Status (see above).
// `fn` returns void, absl::Status, T or absl::StatusOr<T>; TorchCall returns
// absl::Status for the first two and absl::StatusOr<T> otherwise.
template <typename Fn>
auto TorchCall(absl::string_view what, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  if constexpr (std::is_void_v<R>) {
    try {
      fn();
      return absl::OkStatus();
    } catch (...) {
      return StatusFromCurrentException(what);
    }
  } else if constexpr (std::is_same_v<R, absl::Status>) {
    try {
      return fn();
    } catch (...) {
      return StatusFromCurrentException(what);
    }
  } else {
    using Out = std::conditional_t<std::is_convertible_v<absl::Status, R>, R, absl::StatusOr<R>>;
    try {
      return Out(fn());
    } catch (...) {
      return Out(StatusFromCurrentException(what));
    }
  }
}

}  // namespace videogen

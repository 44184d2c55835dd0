// Cooperative cancellation: the owner of a job calls Cancel(); long-running
// engine loops check cancelled() between denoising steps and VAE chunks and
// return absl::CancelledError (or DeadlineExceeded when a deadline passed).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include "absl/status/status.h"

namespace videogen {

// Thread-safe. Not copyable; share by pointer/reference.
class CancelToken {
 public:
  using Clock = std::chrono::steady_clock;
  CancelToken() = default;
  explicit CancelToken(Clock::time_point deadline) : deadline_(deadline) {}
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // OK, Cancelled or DeadlineExceeded; `where` names the check point in the message.
  absl::Status Check(const char* where) const {
    if (cancelled()) return absl::CancelledError(std::string("cancelled during ") + where);
    if (deadline_ && Clock::now() >= *deadline_) {
      return absl::DeadlineExceededError(std::string("deadline exceeded during ") + where);
    }
    return absl::OkStatus();
  }

 private:
  std::atomic<bool> cancelled_{false};
  const std::optional<Clock::time_point> deadline_;
};

// Checks `token` when non-null.
inline absl::Status CheckCancel(const CancelToken* token, const char* where) {
  return token == nullptr ? absl::OkStatus() : token->Check(where);
}

}  // namespace videogen

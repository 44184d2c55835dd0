// Cancellation points inside model forwards. The layer loops of the T5
// encoder, the CLIP visual tower and the VAE encoder/decoder run inside
// LibTorch-style forward() calls that return tensors, so they cannot return a
// Status between layers; instead a caller installs its CancelToken for the
// current thread with a CancelScope, and the loops call CancelPoint() before
// every layer. CancelPoint throws CancelledException when the token is
// cancelled or past its deadline; TorchCall (torch_status.h) turns it back
// into the token's status (Cancelled / DeadlineExceeded, naming the point),
// so the exception never leaves the engine.
//
// Thread safety: a scope belongs to the thread that made it; CancelPoint reads
// only the calling thread's scope (LibTorch's intra-op threads have none, and
// the loops run on the caller's thread).
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "engine/common/cancellation.h"  // header-only

namespace videogen {

// Thrown by CancelPoint; status() is Cancelled or DeadlineExceeded.
class CancelledException final : public std::exception {
 public:
  explicit CancelledException(absl::Status status)
      : status_(std::move(status)), message_(status_.ToString()) {}
  const absl::Status& status() const { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  absl::Status status_;
  std::string message_;
};

// Test hook, called at every cancellation point with its name before the
// token is checked (so a hook that cancels the token stops at that point).
using CancelPointHook = std::function<void(const char* where)>;

// Installs `token` (null: no checks) for the calling thread until destruction.
// Scopes nest: the innermost token is checked and the outer one is restored at
// destruction. A scope made without a hook keeps the enclosing scope's hook.
class CancelScope {
 public:
  explicit CancelScope(const CancelToken* token);
  CancelScope(const CancelToken* token, CancelPointHook hook);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const CancelToken* const previous_token_;
  const CancelPointHook* const previous_hook_;
  CancelPointHook hook_;
};

// Calls the hook, then throws CancelledException carrying
// token->Check(where) ("cancelled during <where>") when the calling thread's
// token is cancelled or past its deadline. No-op without a scope. Cheap: one
// thread-local read and one atomic load when no hook is set.
void CancelPoint(const char* where);

}  // namespace videogen

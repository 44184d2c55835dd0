#include "engine/common/cancel_point.h"

namespace videogen {
namespace {

thread_local const CancelToken* current_token = nullptr;
thread_local const CancelPointHook* current_hook = nullptr;

}  // namespace

CancelScope::CancelScope(const CancelToken* token)
    : previous_token_(current_token), previous_hook_(current_hook) {
  current_token = token;
}

CancelScope::CancelScope(const CancelToken* token, CancelPointHook hook)
    : previous_token_(current_token), previous_hook_(current_hook), hook_(std::move(hook)) {
  current_token = token;
  current_hook = hook_ ? &hook_ : nullptr;
}

CancelScope::~CancelScope() {
  current_token = previous_token_;
  current_hook = previous_hook_;
}

void CancelPoint(const char* where) {
  if (current_hook != nullptr) (*current_hook)(where);
  if (current_token == nullptr) return;
  absl::Status status = current_token->Check(where);
  if (!status.ok()) throw CancelledException(std::move(status));
}

}  // namespace videogen

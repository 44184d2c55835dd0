// Counts the job-event streams in progress, so that shutdown can wait for
// them to deliver their last events before it stops the gRPC server (which
// would otherwise also wait for unrelated long-lived calls such as health
// watches).
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace videogen::service {

// Thread-safe.
class ActiveStreams {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  void Remove() {
    absl::MutexLock lock(&mu_);
    --count_;
  }
  // Waits until no stream is in progress; false after `timeout`.
  bool WaitIdle(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return count_ == 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace videogen::service

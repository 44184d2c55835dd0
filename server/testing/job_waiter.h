// Test helper: blocks until a job reaches a terminal state, without sleeping
// (a JobObserver signals a condition variable).
#pragma once

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job.h"

namespace videogen::testing {

class JobWaiter final : public jobs::JobObserver, public std::enable_shared_from_this<JobWaiter> {
 public:
  // Waits until `job` satisfies `done(snapshot)`; false after `timeout`.
  template <typename Pred>
  static bool WaitFor(jobs::Job& job, Pred done, absl::Duration timeout = absl::Seconds(30)) {
    auto waiter = std::make_shared<JobWaiter>();
    job.AddObserver(waiter);
    absl::MutexLock lock(&waiter->mu_);
    const absl::Time deadline = absl::Now() + timeout;
    while (!done(job.Snapshot())) {
      if (waiter->cv_.WaitWithDeadline(&waiter->mu_, deadline)) return done(job.Snapshot());
    }
    return true;
  }
  static bool WaitTerminal(jobs::Job& job, absl::Duration timeout = absl::Seconds(30)) {
    return WaitFor(
        job, [](const jobs::JobSnapshot& s) { return jobs::IsTerminal(s.state); }, timeout);
  }

  void OnJobChanged() override {
    absl::MutexLock lock(&mu_);
    cv_.SignalAll();
  }

 private:
  absl::Mutex mu_;
  absl::CondVar cv_;
};

}  // namespace videogen::testing

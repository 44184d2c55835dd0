// A bounded queue of jobs: higher priority first, FIFO within a priority.
// Every change re-numbers the waiting jobs (Job::SetQueuePosition), so their
// watchers see `queued {position}` events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/jobs/job.h"
#include "server/jobs/job_source.h"

namespace videogen::jobs {

// Thread-safe. Shares ownership of the queued jobs.
class JobQueue final : public JobSource {
 public:
  explicit JobQueue(size_t capacity);
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Errors: ResourceExhausted when full (the message gives the depth and the
  // capacity), Unavailable once closed.
  absl::Status Push(std::shared_ptr<Job> job) override;

  // What Push() would answer now, without pushing: a hint for refusing a
  // request before the work of building its job (it may change before Push).
  absl::Status CheckCapacity() const override;

  // Push() without the capacity check: for jobs restored after a restart,
  // pushed in their submission order. Unavailable once closed.
  absl::Status Restore(std::shared_ptr<Job> job) override;

  // Blocks until a job is available and returns it, or returns nullptr once
  // the queue is closed.
  std::shared_ptr<Job> Pop() override;

  // Removes a waiting job; false when it is not in the queue.
  bool Remove(const std::string& job_id) override;

  // Removes every waiting job whose cancel token has fired (cancelled or past
  // its deadline) and returns them.
  std::vector<std::shared_ptr<Job>> RemoveExpired() override;

  // Closes the queue: Push fails with Unavailable, Pop returns nullptr.
  // Returns the jobs that were waiting (the caller fails them).
  std::vector<std::shared_ptr<Job>> Close() override;

  size_t depth() const override;

 private:
  struct Entry {
    int priority;
    uint64_t seq;
    std::shared_ptr<Job> job;
  };
  absl::Status Insert(std::shared_ptr<Job> job, bool check_capacity);
  absl::Status CheckLocked(bool check_capacity) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-numbers the waiting jobs; call without mu_ held.
  void Renumber();

  const size_t capacity_;

  mutable absl::Mutex mu_;
  absl::CondVar ready_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // sorted: priority desc, seq asc
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace videogen::jobs

// Where workers take jobs from and where the manager queues them: the
// server's own bounded JobQueue, or a queue shared by a fleet of servers
// (PostgresJobStore, where the store's rows are the queue).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/jobs/job.h"

namespace videogen::jobs {

// Thread-safe.
class JobSource {
 public:
  virtual ~JobSource() = default;

  // Queues a job the store has just inserted. Errors: ResourceExhausted when
  // full (with the depth and the capacity), Unavailable once closed. A shared
  // queue checks its capacity when the store inserts the job, so its Push
  // only refuses once closed.
  virtual absl::Status Push(std::shared_ptr<Job> job) = 0;
  // What Push() would answer now: a hint taken before building a job.
  virtual absl::Status CheckCapacity() const = 0;
  // Push() without the capacity check, for jobs restored after a restart.
  virtual absl::Status Restore(std::shared_ptr<Job> job) = 0;
  // Blocks until a worker may run a job and returns it (the caller runs it:
  // MarkRunning, progress, Succeed/Fail); nullptr once closed.
  virtual std::shared_ptr<Job> Pop() = 0;
  // Removes a waiting job; false when it is not waiting. A shared queue
  // records the removal (the job is cancelled for every server) and asks
  // the worker running it, on whichever server, to stop.
  virtual bool Remove(const std::string& job_id) = 0;
  // Removes the waiting jobs whose cancel token fired or whose deadline
  // passed and returns those this server holds (the caller fails them).
  virtual std::vector<std::shared_ptr<Job>> RemoveExpired() = 0;
  // Pop() returns nullptr from now on; returns the waiting jobs the caller
  // fails. A shared queue returns none: the fleet still runs them.
  virtual std::vector<std::shared_ptr<Job>> Close() = 0;
  // Jobs waiting (for a shared queue: in the whole fleet, as last read).
  virtual size_t depth() const = 0;
};

}  // namespace videogen::jobs

// The jobs the server knows about: lookup by id, idempotency by
// client_request_id, and retention of finished jobs (TTL after finishing and
// a total byte budget for their videos, oldest finished evicted first).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job.h"

namespace videogen::jobs {

struct RetentionOptions {
  // A finished job is forgotten this long after it finished.
  absl::Duration ttl = absl::Hours(1);
  // Total bytes of retained videos; the oldest finished jobs are evicted
  // first when over it. Unfinished jobs are never evicted.
  size_t max_bytes = size_t{2} << 30;
};

// Thread-safe.
class JobStore {
 public:
  using Clock = std::function<absl::Time()>;
  // `clock` defaults to absl::Now.
  explicit JobStore(RetentionOptions options, Clock clock = nullptr);

  struct InsertResult {
    std::shared_ptr<Job> job;  // the inserted job, or the existing one
    bool inserted = false;     // false: attached to the job with the same client_request_id
  };
  // Inserts `job` unless a retained job has the same non-empty
  // client_request_id, in which case that job is returned instead.
  InsertResult InsertOrAttach(std::shared_ptr<Job> job);

  // nullptr when unknown (never submitted, or evicted).
  std::shared_ptr<Job> Find(const std::string& job_id) const;

  // Up to `limit` jobs, newest first.
  std::vector<std::shared_ptr<Job>> Recent(size_t limit) const;

  // Forgets a job (e.g. one rejected by a full queue right after insertion).
  void Erase(const std::string& job_id);

  // Applies the TTL and the byte budget; returns the number of jobs evicted.
  size_t Sweep();

  size_t retained_bytes() const;
  size_t size() const;

 private:
  const RetentionOptions options_;
  const Clock clock_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> by_id_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> by_request_id_ ABSL_GUARDED_BY(mu_);  // client id -> job id
};

}  // namespace videogen::jobs

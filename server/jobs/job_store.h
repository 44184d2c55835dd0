// The jobs the server knows about: lookup by id, idempotency by
// client_request_id, and retention of finished jobs (TTL after finishing, a
// byte budget and a job count, oldest finished evicted first). Implementations:
// MemoryJobStore (nothing survives the process), SqliteJobStore (jobs,
// results and keys survive a crash or restart; the server's default) and
// PostgresJobStore (one queue and one set of jobs for a fleet of servers).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/jobs/job.h"
#include "server/jobs/job_source.h"

namespace videogen::jobs {

struct RetentionOptions {
  // A finished job is forgotten this long after it finished.
  absl::Duration ttl = absl::Hours(1);
  // Total bytes finished jobs hold (Job::held_bytes(): the video and the
  // inputs, e.g. a decoded conditioning image); the oldest finished jobs are
  // evicted first when over it. Unfinished jobs are never evicted.
  size_t max_bytes = size_t{2} << 30;
  // Most jobs retained; the oldest finished are evicted first when over it.
  size_t max_jobs = 10000;
};

// True for statuses that say the server, not the request, ended a job
// (Unavailable: drained; Internal, Unknown, DataLoss: a fault or the crash
// limit; ResourceExhausted: out of memory; Aborted). A client_request_id
// whose job ended so may be submitted again and makes a new job.
bool IsServerFault(const absl::Status& status);

// Thread-safe.
class JobStore {
 public:
  virtual ~JobStore() = default;

  struct InsertResult {
    std::shared_ptr<Job> job;  // the inserted job, or the existing one
    bool inserted = false;     // false: attached to the job with the same client_request_id
  };
  // Inserts `job` unless a retained job has the same non-empty
  // client_request_id: with the same fingerprint that job is returned
  // instead; with another fingerprint AlreadyExists naming
  // client_request_id. A key whose job ended by a server fault
  // (IsServerFault) is taken over by `job`. A durable store may also return
  // Unavailable / Internal when it cannot record the job (nothing inserted).
  virtual absl::StatusOr<InsertResult> InsertOrAttach(std::shared_ptr<Job> job) = 0;

  // nullptr when unknown (never submitted, or evicted).
  virtual std::shared_ptr<Job> Find(const std::string& job_id) const = 0;

  // Up to `limit` jobs, newest first.
  virtual std::vector<std::shared_ptr<Job>> Recent(size_t limit) const = 0;

  // Forgets a job (e.g. one rejected by a full queue right after insertion).
  virtual void Erase(const std::string& job_id) = 0;

  // Applies retention; returns the number of jobs evicted.
  virtual size_t Sweep() = 0;

  // The jobs found unfinished when the store was opened (queued, or running
  // when the server died), in submission order: the caller queues them again.
  // Later calls return nothing.
  virtual std::vector<std::shared_ptr<Job>> TakeUnfinished() { return {}; }

  // A store shared by a fleet of servers is also their queue: InsertOrAttach
  // queues the job (checking the queue's capacity) and workers claim jobs
  // from it. Null (the default): the manager keeps its own JobQueue.
  virtual JobSource* SharedQueue() { return nullptr; }

  // Job::held_bytes() of every retained job.
  virtual size_t retained_bytes() const = 0;
  virtual size_t size() const = 0;
};

}  // namespace videogen::jobs

// The job service behind the RPCs: submission (validation, idempotency,
// the bounded queue), lookup, cancellation, listing, retention sweeps and the
// shutdown sequence. Owns the queue, the store, the worker pool and a sweeper
// thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job.h"
#include "server/jobs/job_listener.h"
#include "server/jobs/job_queue.h"
#include "server/jobs/job_store.h"
#include "server/jobs/memory_job_store.h"
#include "server/jobs/worker_pool.h"

namespace videogen::jobs {

struct JobManagerOptions {
  // Jobs that may wait in the queue (running ones do not count).
  size_t max_queue = 16;
  RetentionOptions retention;
  // How often retention is applied and expired queued jobs are failed.
  absl::Duration sweep_interval = absl::Seconds(1);
  // Run a warm-up generation on every worker before serving (1 frame, 1 step,
  // the model's default size).
  bool warmup = true;
  // Called once, on a worker thread, when every worker is warm.
  std::function<void()> on_ready;
  std::function<absl::Time()> clock;  // default absl::Now
};

// Thread-safe. `listener` (nullable) must outlive the manager.
class JobManager {
 public:
  // Starts the workers (which warm up in the background). Takes `store`
  // (null: a MemoryJobStore with options.retention); the jobs it found
  // unfinished (TakeUnfinished) are queued first, in their order, beyond
  // max_queue if need be. Errors: InvalidArgument for max_queue 0, a
  // non-positive sweep_interval or no device with a generator; otherwise
  // those of WorkerPool::Create.
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(JobManagerOptions options, std::vector<Device> devices,
                                                            ResultEncoder encoder, JobListener* listener,
                                                            std::unique_ptr<JobStore> store = nullptr);
  // Shutdown(absl::ZeroDuration()) when not shut down yet.
  ~JobManager();

  const pipeline::ModelDescription& model() const { return pool_->generator().description(); }
  // Validates a request against the served model (InvalidArgument naming the field).
  absl::Status Validate(const JobSpec& spec) const;

  struct Submitted {
    std::shared_ptr<Job> job;
    bool attached = false;  // true: an earlier job with the same client_request_id
  };
  // Validates and enqueues. Errors: InvalidArgument (naming the field),
  // AlreadyExists (client_request_id reused with other parameters),
  // ResourceExhausted (queue full, with the depth), Unavailable (shutting
  // down, every worker failed its warm-up, or the store cannot record the
  // job). Once every worker has failed its warm-up, the queued jobs fail with
  // that Unavailable too.
  absl::StatusOr<Submitted> Submit(JobSpec spec);

  // Whether Submit() would find room for a new job now, before the caller
  // does the work of building it (decoding images): Unavailable (shutting
  // down, every worker failed its warm-up) or ResourceExhausted (queue full,
  // with the depth). A hint: Submit() checks again. A request that may attach
  // to an earlier job by client_request_id should not be refused by it.
  absl::Status CheckCapacity() const;

  // NotFound naming the job_id when unknown or evicted.
  absl::StatusOr<std::shared_ptr<Job>> Find(const std::string& job_id) const;
  // Cancels a job: a queued job fails at once with Cancelled; a running one
  // stops at its next cancellation check. Cancelling a finished job is a
  // no-op. NotFound when unknown.
  absl::StatusOr<std::shared_ptr<Job>> Cancel(const std::string& job_id);
  // Up to `limit` retained jobs, newest first.
  std::vector<std::shared_ptr<Job>> List(size_t limit) const;

  bool ready() const { return pool_->ready(); }
  std::vector<pipeline::DeviceMemoryStats> DeviceMemory() const { return pool_->DeviceMemory(); }
  std::vector<pipeline::ResidentGroup> ResidentNow() const { return pool_->ResidentNow(); }
  std::vector<std::pair<videogen::Device, WorkerState>> WorkerStates() const { return pool_->WorkerStates(); }
  // Applies retention now (the sweeper also does it every sweep_interval).
  void Sweep();

  // Stops accepting jobs (Submit -> Unavailable), fails the queued ones with
  // Unavailable (a shared queue keeps them for the other servers, see
  // JobSource::Close), lets the running ones finish within `drain_timeout`, then
  // ends what still runs (failed with Unavailable, a server fault) and joins
  // the workers. Idempotent.
  void Shutdown(absl::Duration drain_timeout);
  // Ends the drain now, from any thread, also while Shutdown() waits in it
  // (before it: the coming drain ends at once): queued and running jobs fail
  // with Unavailable (server faults: their client_request_ids may be used
  // again); Submit refuses from now on.
  void AbortDrain();

 private:
  JobManager(JobManagerOptions options, JobListener* listener, std::unique_ptr<JobStore> store);
  void SweeperLoop();
  void FinishUnstarted(const std::shared_ptr<Job>& job, absl::Status status);
  std::string NewJobId();

  // Constant after construction.
  const JobManagerOptions options_;
  JobListener* const listener_;
  JobQueue local_queue_;  // unused when the store is the queue (JobStore::SharedQueue)
  const std::unique_ptr<JobStore> store_;
  JobSource* const queue_;  // the store's shared queue, or local_queue_
  std::unique_ptr<WorkerPool> pool_;
  std::thread sweeper_;

  mutable absl::Mutex mu_;
  absl::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace videogen::jobs

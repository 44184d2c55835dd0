// One worker thread per device, each owning a VideoGenerator with its weights
// resident. A worker warms up, then takes jobs from the queue, runs the
// generator, encodes the frames with the injected ResultEncoder (so encoding
// runs on the worker, never on RPC threads) and publishes the outcome. Each
// worker thread runs its whole loop inside its generator's RunWorkerLoop()
// (LibTorch's thread-local InferenceMode and device guard, entered once).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/pipeline/api/generator.h"
#include "server/jobs/job.h"
#include "server/jobs/job_listener.h"
#include "server/jobs/job_source.h"

namespace videogen::jobs {

struct Device {
  videogen::Device device;
  std::unique_ptr<pipeline::VideoGenerator> generator;
};

// Encodes generated frames into the job's output format. Called on a worker
// thread; should check `cancel` between chunks of work.
using ResultEncoder = std::function<absl::StatusOr<JobResult>(const pipeline::GeneratedVideo& video,
                                                              const OutputSpec& output, const CancelToken& cancel)>;

struct WorkerPoolOptions {
  // Run once by every worker before it takes jobs; unset: no warm-up.
  std::optional<pipeline::GenerationRequest> warmup;
  // Called once, from a worker thread, when every worker has warmed up.
  std::function<void()> on_ready;
  // Called once, from a worker thread, when every worker has failed its
  // warm-up, with Usable()'s status: no job will ever run.
  std::function<void(const absl::Status&)> on_unusable;
  // Called on the worker thread after each job reached its final state.
  std::function<void(const Job&)> on_job_done;
  std::function<absl::Time()> clock;  // default absl::Now
};

// Thread-safe. The pool takes `queue` and `listener` by pointer: both must
// outlive it. The destructor joins the workers (Join()) but closes nothing:
// close the queue first (JobSource::Close()), otherwise it blocks until the
// queue is closed.
class WorkerPool {
 public:
  // Errors: InvalidArgument when `devices` is empty, a generator is null, the
  // devices serve different model ids, `queue` is null or `encoder` is unset.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Create(WorkerPoolOptions options, std::vector<Device> devices,
                                                            JobSource* queue, ResultEncoder encoder,
                                                            JobListener* listener);
  ~WorkerPool();

  // The model every worker serves.
  const pipeline::VideoGenerator& generator() const { return *workers_.front()->device.generator; }
  bool ready() const;
  // OK while some worker has warmed up or is still warming up; Unavailable
  // naming a worker's warm-up failure once every worker has failed it.
  absl::Status Usable() const;
  // Call after closing the queue: waits until no worker holds a job (running
  // it, or taken from the queue and not yet started) or is inside the queue's
  // Pop(), or until `timeout` passed; true when none is. A job a worker has
  // taken counts from the moment it left the queue.
  bool WaitIdle(absl::Duration timeout) const;
  // Shutdown's end of the running jobs: fires their cancel tokens, and the
  // token of every job a worker takes from now on; a job that then ends
  // Cancelled fails with `why` instead (e.g. Unavailable: a server fault,
  // so its client_request_id may be used again). The first `why` stays.
  void AbortRunning(absl::Status why);
  // Joins the worker threads: blocks until the queue is closed and each
  // worker finished its job. Idempotent.
  void Join();

  std::vector<pipeline::DeviceMemoryStats> DeviceMemory() const;
  // Every worker's generator's ResidentNow(), concatenated.
  std::vector<pipeline::ResidentGroup> ResidentNow() const;
  std::vector<std::pair<videogen::Device, WorkerState>> WorkerStates() const;

 private:
  struct Worker {
    Device device;
    std::thread thread;
  };
  WorkerPool(WorkerPoolOptions options, JobSource* queue, ResultEncoder encoder, JobListener* listener);
  void Run(Worker* worker);
  // Pops the next job and counts it in running_ (nullptr once closed).
  std::shared_ptr<Job> Take();
  void Forget(const std::shared_ptr<Job>& job);
  void RunJob(Worker* worker, const std::shared_ptr<Job>& job);
  void SetState(Worker* worker, WorkerState state);

  // Constant after construction.
  const WorkerPoolOptions options_;
  JobSource* const queue_;
  const ResultEncoder encoder_;
  JobListener* const listener_;
  std::vector<std::unique_ptr<Worker>> workers_;

  mutable absl::Mutex mu_;
  std::vector<WorkerState> states_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Job>> running_ ABSL_GUARDED_BY(mu_);  // taken, until finished
  int popping_ ABSL_GUARDED_BY(mu_) = 0;  // workers inside queue_->Pop()
  int warmed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status abort_ ABSL_GUARDED_BY(mu_);  // set by AbortRunning()
  int failed_ ABSL_GUARDED_BY(mu_) = 0;                // workers whose warm-up failed
  std::string first_failure_ ABSL_GUARDED_BY(mu_);  // "device: status" of the first
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace videogen::jobs

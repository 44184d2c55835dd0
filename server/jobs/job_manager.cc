#include "server/jobs/job_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"
#include "engine/pipeline/api/request_rules.h"
#include "server/log/echo.h"
#include "server/log/log.h"

namespace videogen::jobs {

namespace {

// The warm-up runs every stage once (text, image, denoising, VAE, encoding)
// at 1 frame, 1 step and a 64x64 area: it proves the pipeline works and
// touches every weight, but does not size the working set (admission does
// that per request). At the default size a 14B DiT on a CPU takes > 20 min.
constexpr int kWarmupSide = 64;

pipeline::GenerationRequest WarmupRequest(const pipeline::ModelDescription& model) {
  pipeline::GenerationRequest r;
  r.prompt = "warm-up";
  r.num_frames = 1;
  r.steps = 1;
  if (model.type != pipeline::ModelType::kT2V) {
    pipeline::RgbImage image;
    image.width = kWarmupSide;
    image.height = kWarmupSide;
    image.rgb.assign(static_cast<size_t>(image.width) * image.height * 3, 128);
    r.max_area = kWarmupSide * kWarmupSide;
    // flf2v takes exactly 81 frames.
    if (model.type == pipeline::ModelType::kFLF2V) {
      r.num_frames = pipeline::kFirstLastFrameNumFrames;
      r.last_image = image;
    }
    r.image = std::move(image);
  } else {
    r.width = kWarmupSide;
    r.height = kWarmupSide;
  }
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(JobManagerOptions options, std::vector<Device> devices,
                                                               ResultEncoder encoder, JobListener* listener,
                                                               std::unique_ptr<JobStore> store) {
  if (options.max_queue == 0) return absl::InvalidArgumentError("max_queue: must be at least 1");
  if (options.sweep_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sweep_interval: must be positive");
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  if (devices.empty() || devices.front().generator == nullptr) {
    return absl::InvalidArgumentError("devices: at least one device with a generator is required");
  }
  WorkerPoolOptions pool_options;
  if (options.warmup) pool_options.warmup = WarmupRequest(devices.front().generator->description());
  pool_options.on_ready = options.on_ready;
  pool_options.clock = options.clock;
  if (store == nullptr) store = std::make_unique<MemoryJobStore>(options.retention, options.clock);
  std::unique_ptr<JobManager> manager(new JobManager(std::move(options), listener, std::move(store)));
  JobManager* self = manager.get();
  for (std::shared_ptr<Job>& job : manager->store_->TakeUnfinished()) {
    RETURN_IF_ERROR(manager->queue_->Restore(job));
    logging::LogEvent("job_requeued", {{"job_id", job->id()}, {"attempts", absl::StrCat(job->attempt())}});
  }
  if (listener != nullptr) listener->OnQueueDepth(manager->queue_->depth());
  pool_options.on_job_done = [self](const Job&) { self->store_->Sweep(); };
  // No job will ever run: fail the queued ones now (Submit refuses new ones).
  pool_options.on_unusable = [self](const absl::Status& why) {
    logging::LogEvent("workers_unusable", {{"error", why.ToString()}});
    for (const auto& job : self->queue_->Close()) self->FinishUnstarted(job, why);
  };
  ASSIGN_OR_RETURN(manager->pool_, WorkerPool::Create(std::move(pool_options), std::move(devices), manager->queue_,
                                                     std::move(encoder), listener));
  manager->sweeper_ = std::thread([self] { self->SweeperLoop(); });
  return manager;
}

JobManager::JobManager(JobManagerOptions options, JobListener* listener, std::unique_ptr<JobStore> store)
    : options_(std::move(options)),
      listener_(listener),
      local_queue_(options_.max_queue),
      store_(std::move(store)),
      queue_(store_->SharedQueue() != nullptr ? store_->SharedQueue() : &local_queue_) {}

JobManager::~JobManager() { Shutdown(absl::ZeroDuration()); }

absl::Status JobManager::Validate(const JobSpec& spec) const {
  const pipeline::ModelDescription& m = model();
  if (spec.model != m.id) {
    return absl::InvalidArgumentError(
        absl::StrCat("model: unknown model \"", logging::Echo(spec.model), "\" (available: ", m.id, ")"));
  }
  return pool_->generator().Validate(spec.request);
}

std::string JobManager::NewJobId() {
  absl::MutexLock lock(&mu_);
  return absl::StrFormat("job-%016x", absl::Uniform<uint64_t>(bitgen_));
}

absl::StatusOr<JobManager::Submitted> JobManager::Submit(JobSpec spec) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  }
  RETURN_IF_ERROR(pool_->Usable());
  RETURN_IF_ERROR(Validate(spec));
  auto job = std::make_shared<Job>(NewJobId(), std::move(spec), options_.clock());
  absl::StatusOr<JobStore::InsertResult> insert = store_->InsertOrAttach(job);
  if (!insert.ok()) {
    logging::LogEvent("job_rejected", {{"job_id", job->id()}, {"error", insert.status().ToString()}});
    return insert.status();
  }
  JobStore::InsertResult& inserted = *insert;
  if (!inserted.inserted) {
    logging::LogEvent("job_attached",
             {{"job_id", inserted.job->id()}, {"client_request_id", logging::Echo(inserted.job->spec().client_request_id)}});
    return Submitted{inserted.job, true};
  }
  if (absl::Status s = queue_->Push(job); !s.ok()) {
    store_->Erase(job->id());
    if (absl::Status unusable = pool_->Usable(); !unusable.ok()) s = unusable;  // closed because of it
    logging::LogEvent("job_rejected", {{"job_id", job->id()}, {"error", s.ToString()}});
    return s;
  }
  logging::LogEvent("job_queued", {{"job_id", job->id()},
                          {"model", logging::Echo(job->spec().model)},
                          {"priority", absl::StrCat(job->spec().priority)},
                          {"client_request_id", logging::Echo(job->spec().client_request_id)}});
  if (listener_ != nullptr) listener_->OnQueueDepth(queue_->depth());
  return Submitted{std::move(job), false};
}

absl::Status JobManager::CheckCapacity() const {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down; retry elsewhere");
  }
  RETURN_IF_ERROR(pool_->Usable());
  return queue_->CheckCapacity();
}

absl::StatusOr<std::shared_ptr<Job>> JobManager::Find(const std::string& job_id) const {
  std::shared_ptr<Job> job = store_->Find(job_id);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("job_id: no job \"", logging::Echo(job_id), "\" (unknown or expired)"));
  return job;
}

void JobManager::FinishUnstarted(const std::shared_ptr<Job>& job, absl::Status status) {
  job->Fail(status, options_.clock());
  logging::LogEvent("job_finished", {{"job_id", job->id()}, {"outcome", status.ToString()}, {"started", "false"}});
  if (listener_ != nullptr) {
    listener_->OnJobFinished(*job, status, std::nullopt, 0);
    listener_->OnQueueDepth(queue_->depth());
  }
}

absl::StatusOr<std::shared_ptr<Job>> JobManager::Cancel(const std::string& job_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Job> job, Find(job_id));
  job->RequestCancel();
  if (queue_->Remove(job_id)) FinishUnstarted(job, absl::CancelledError("cancelled while queued"));
  logging::LogEvent("job_cancel_requested", {{"job_id", job->id()}});
  return job;
}

std::vector<std::shared_ptr<Job>> JobManager::List(size_t limit) const { return store_->Recent(limit); }

void JobManager::Sweep() {
  for (const auto& job : queue_->RemoveExpired()) {
    absl::Status why = job->cancel_token().Check("queue");
    FinishUnstarted(job, why.ok() ? absl::CancelledError("cancelled while queued") : why);
  }
  store_->Sweep();
  // A shared queue also changes by other servers' hands.
  if (listener_ != nullptr) listener_->OnQueueDepth(queue_->depth());
}

void JobManager::SweeperLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    stop_cv_.WaitWithTimeout(&mu_, options_.sweep_interval);
    if (stopping_) break;
    mu_.Unlock();
    Sweep();
    mu_.Lock();
  }
}

void JobManager::Shutdown(absl::Duration drain_timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
    stop_cv_.SignalAll();
  }
  if (sweeper_.joinable()) sweeper_.join();
  if (pool_ == nullptr) return;
  for (const auto& job : queue_->Close()) {
    FinishUnstarted(job, absl::UnavailableError("the server is shutting down; retry elsewhere"));
  }
  if (!pool_->WaitIdle(drain_timeout)) {
    logging::LogEvent("drain_timeout", {{"timeout_ms", absl::StrCat(absl::ToInt64Milliseconds(drain_timeout))}});
    pool_->AbortRunning(
        absl::UnavailableError("the server stopped before the job finished (drain timeout); retry elsewhere"));
  }
  pool_->Join();
}

void JobManager::AbortDrain() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_cv_.SignalAll();
  }
  logging::LogEvent("drain_aborted");
  for (const auto& job : queue_->Close()) {
    FinishUnstarted(job, absl::UnavailableError("the server is shutting down; retry elsewhere"));
  }
  pool_->AbortRunning(
      absl::UnavailableError("the server stopped before the job finished (drain ended early); retry elsewhere"));
}

}  // namespace videogen::jobs

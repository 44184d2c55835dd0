#include "server/jobs/worker_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/log/log.h"

namespace videogen::jobs {

const char* WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kWarming:
      return "warming";
    case WorkerState::kIdle:
      return "idle";
    case WorkerState::kBusy:
      return "busy";
    case WorkerState::kFailed:
      return "failed";
    case WorkerState::kStopped:
      return "stopped";
  }
  return "unknown";
}

namespace {

// Forwards generator progress to the job; times denoising steps.
// Forwards the generator's progress to the job (and the listener); at the
// first update after conditioning (VideoGenerator::Generate's contract) it
// frees the pixels of `inputs`' images (may be null).
class JobProgressSink final : public pipeline::ProgressSink {
 public:
  JobProgressSink(Job* job, JobListener* listener, const std::function<absl::Time()>& clock,
                  pipeline::GenerationRequest* inputs)
      : job_(job), listener_(listener), clock_(clock), inputs_(inputs) {}

  void OnProgress(const pipeline::ProgressUpdate& update) override {
    const absl::Time now = clock_();
    const pipeline::Stage stage = update.stage;
    if (inputs_ != nullptr && (stage == pipeline::Stage::kDenoising || stage == pipeline::Stage::kVaeDecoding)) {
      // Assigning an empty vector frees the memory (clear() would keep it).
      if (inputs_->image) inputs_->image->rgb = std::vector<uint8_t>();
      if (inputs_->last_image) inputs_->last_image->rgb = std::vector<uint8_t>();
      inputs_ = nullptr;
    }
    if (stage == pipeline::Stage::kDenoising && listener_ != nullptr) {
      const int previous = last_stage_ == pipeline::Stage::kDenoising ? last_denoise_step_ : 0;
      if (update.step > previous) {
        const absl::Duration per_step = (now - last_report_) / (update.step - previous);
        for (int i = previous; i < update.step; ++i) listener_->OnDenoiseStep(*job_, per_step);
      }
      last_denoise_step_ = update.step;
    }
    last_stage_ = stage;
    last_report_ = now;
    job_->ReportProgress(stage, update.step, update.total_steps, now, update.expert);
  }

 private:
  Job* const job_;
  JobListener* const listener_;
  const std::function<absl::Time()>& clock_;
  pipeline::GenerationRequest* inputs_;
  std::optional<pipeline::Stage> last_stage_;
  int last_denoise_step_ = 0;
  absl::Time last_report_ = clock_();
};

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Create(WorkerPoolOptions options, std::vector<Device> devices,
                                                               JobSource* queue, ResultEncoder encoder,
                                                               JobListener* listener) {
  if (devices.empty()) return absl::InvalidArgumentError("devices: at least one device is required");
  if (queue == nullptr) return absl::InvalidArgumentError("queue: must not be null");
  if (!encoder) return absl::InvalidArgumentError("encoder: must be set");
  for (const auto& d : devices) {
    if (d.generator == nullptr) return absl::InvalidArgumentError(absl::StrCat("devices: no generator for ", DeviceName(d.device)));
    if (d.generator->description().id != devices.front().generator->description().id) {
      return absl::InvalidArgumentError(absl::StrCat("devices: every device must serve the same model (",
                                                     devices.front().generator->description().id, " vs ",
                                                     d.generator->description().id, ")"));
    }
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  std::unique_ptr<WorkerPool> pool(new WorkerPool(std::move(options), queue, std::move(encoder), listener));
  {
    absl::MutexLock lock(&pool->mu_);
    pool->states_.assign(devices.size(), WorkerState::kWarming);
  }
  for (auto& d : devices) {
    auto w = std::make_unique<Worker>();
    w->device = std::move(d);
    pool->workers_.push_back(std::move(w));
  }
  for (auto& w : pool->workers_) {
    if (listener != nullptr) listener->OnWorkerState(w->device.device, WorkerState::kWarming);
  }
  for (auto& w : pool->workers_) {
    Worker* raw = w.get();
    WorkerPool* self = pool.get();
    w->thread = std::thread([self, raw] { self->Run(raw); });
  }
  return pool;
}

WorkerPool::WorkerPool(WorkerPoolOptions options, JobSource* queue, ResultEncoder encoder, JobListener* listener)
    : options_(std::move(options)), queue_(queue), encoder_(std::move(encoder)), listener_(listener) {}

WorkerPool::~WorkerPool() { Join(); }

void WorkerPool::Join() {
  {
    absl::MutexLock lock(&mu_);
    if (joined_) return;
    joined_ = true;
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void WorkerPool::SetState(Worker* worker, WorkerState state) {
  {
    absl::MutexLock lock(&mu_);
    const size_t index = static_cast<size_t>(
        std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w.get() == worker; }) -
        workers_.begin());
    states_[index] = state;
  }
  if (listener_ != nullptr) listener_->OnWorkerState(worker->device.device, state);
}

void WorkerPool::Run(Worker* worker) {
  auto loop = [this, worker] {
    if (options_.warmup) {
      logging::LogEvent("worker_warmup_started", {{"device", DeviceName(worker->device.device)}});
      CancelToken token;
      auto warm = worker->device.generator->Generate(*options_.warmup, nullptr, token);
      if (!warm.ok()) {
        logging::LogEvent("worker_warmup_failed", {{"device", DeviceName(worker->device.device)}, {"error", warm.status().ToString()}});
        SetState(worker, WorkerState::kFailed);
        bool all_failed = false;
        {
          absl::MutexLock lock(&mu_);
          if (failed_++ == 0) {
            first_failure_ = absl::StrCat(DeviceName(worker->device.device), ": ", warm.status().ToString());
          }
          all_failed = failed_ == static_cast<int>(workers_.size());
        }
        if (all_failed && options_.on_unusable) options_.on_unusable(Usable());
        return;
      }
    }
    SetState(worker, WorkerState::kIdle);
    bool all_ready = false;
    {
      absl::MutexLock lock(&mu_);
      all_ready = ++warmed_ == static_cast<int>(workers_.size());
    }
    logging::LogEvent("worker_ready", {{"device", DeviceName(worker->device.device)}});
    if (all_ready && options_.on_ready) options_.on_ready();
    while (std::shared_ptr<Job> job = Take()) RunJob(worker, job);
    SetState(worker, WorkerState::kStopped);
  };
  // The generator enters its per-thread state (InferenceMode, device guard) once, here.
  worker->device.generator->RunWorkerLoop(loop);
}

std::shared_ptr<Job> WorkerPool::Take() {
  {
    absl::MutexLock lock(&mu_);
    ++popping_;
  }
  std::shared_ptr<Job> job = queue_->Pop();
  absl::MutexLock lock(&mu_);
  --popping_;
  if (job != nullptr) {
    running_.push_back(job);
    if (!abort_.ok()) job->RequestCancel();  // taken after AbortRunning()
  }
  return job;
}

void WorkerPool::Forget(const std::shared_ptr<Job>& job) {
  absl::MutexLock lock(&mu_);
  running_.erase(std::remove(running_.begin(), running_.end(), job), running_.end());
}

void WorkerPool::RunJob(Worker* worker, const std::shared_ptr<Job>& job) {
  if (listener_ != nullptr) listener_->OnQueueDepth(queue_->depth());
  const absl::Time dequeued = options_.clock();
  const CancelToken& token = job->cancel_token();
  if (absl::Status pre = token.Check("queue"); !pre.ok()) {
    {
      absl::MutexLock lock(&mu_);
      if (absl::IsCancelled(pre) && !abort_.ok()) pre = abort_;
    }
    Forget(job);
    job->Fail(pre, dequeued);
    logging::LogEvent("job_finished", {{"job_id", job->id()}, {"outcome", pre.ToString()}, {"started", "false"}});
    if (listener_ != nullptr) listener_->OnJobFinished(*job, pre, std::nullopt, 0);
    if (options_.on_job_done) options_.on_job_done(*job);
    return;
  }
  if (!job->MarkRunning(dequeued)) {  // finished by someone else (cancelled) meanwhile
    Forget(job);
    return;
  }
  SetState(worker, WorkerState::kBusy);
  logging::LogEvent("job_started", {{"job_id", job->id()},
                           {"device", DeviceName(worker->device.device)},
                           {"queued_ms", absl::StrCat(absl::ToInt64Milliseconds(dequeued - job->created()))}});
  if (listener_ != nullptr) listener_->OnJobStarted(*job, dequeued - job->created());

  pipeline::VideoGenerator& generator = *worker->device.generator;
  absl::Status outcome;
  size_t video_bytes = 0;
  std::optional<JobResult> succeeded;
  absl::StatusOr<pipeline::GeneratedVideo> video;
  {
    // The job keeps none of its images while it runs or once it finished;
    // the sink frees these once conditioning is done.
    pipeline::GenerationRequest request = job->spec().request;
    JobInputs inputs = job->TakeInputs();
    request.image = std::move(inputs.image);
    request.last_image = std::move(inputs.last_image);
    JobProgressSink sink(job.get(), listener_, options_.clock, &request);
    video = generator.Generate(request, &sink, token);
  }
  if (video.ok()) {
    job->ReportProgress(pipeline::Stage::kVideoEncoding, 0, 1, options_.clock());
    OutputSpec output = job->spec().output;
    if (!output.fps) output.fps = video->fps;
    absl::Status before_encoding = token.Check("video encoding");
    absl::StatusOr<JobResult> result =
        before_encoding.ok() ? encoder_(*video, output, token) : absl::StatusOr<JobResult>(before_encoding);
    if (result.ok()) {
      result->seed = video->seed;
      video_bytes = result->bytes.size();
      job->ReportProgress(pipeline::Stage::kVideoEncoding, 1, 1, options_.clock());
      succeeded = *std::move(result);
    } else {
      outcome = result.status();
    }
  } else {
    outcome = video.status();
  }
  if (!outcome.ok() && absl::IsResourceExhausted(outcome)) generator.ReleaseCachedMemory();
  const absl::Time done = options_.clock();
  {
    absl::MutexLock lock(&mu_);
    if (absl::IsCancelled(outcome) && !abort_.ok()) outcome = abort_;
    running_.erase(std::remove(running_.begin(), running_.end(), job), running_.end());
  }
  SetState(worker, WorkerState::kIdle);
  logging::LogEvent("job_finished", {{"job_id", job->id()},
                            {"device", DeviceName(worker->device.device)},
                            {"outcome", outcome.ok() ? "ok" : outcome.ToString()},
                            {"run_ms", absl::StrCat(absl::ToInt64Milliseconds(done - dequeued))},
                            {"video_bytes", absl::StrCat(video_bytes)}});
  if (listener_ != nullptr) listener_->OnJobFinished(*job, outcome, done - dequeued, video_bytes);
  // Published last: a client that sees the job end sees the worker idle and
  // the metrics counted.
  if (succeeded) {
    job->Succeed(*std::move(succeeded), done);
  } else {
    job->Fail(outcome, done);
  }
  if (options_.on_job_done) options_.on_job_done(*job);
}

bool WorkerPool::ready() const {
  absl::MutexLock lock(&mu_);
  return warmed_ == static_cast<int>(workers_.size());
}

absl::Status WorkerPool::Usable() const {
  absl::MutexLock lock(&mu_);
  if (failed_ < static_cast<int>(workers_.size())) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("no worker can run jobs: every worker failed its warm-up (",
                                             first_failure_, "); see the server log"));
}

bool WorkerPool::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto is_idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_.empty() && popping_ == 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&is_idle), timeout);
}

void WorkerPool::AbortRunning(absl::Status why) {
  absl::MutexLock lock(&mu_);
  if (abort_.ok()) abort_ = std::move(why);
  for (const auto& job : running_) job->RequestCancel();
}

std::vector<pipeline::DeviceMemoryStats> WorkerPool::DeviceMemory() const {
  std::vector<pipeline::DeviceMemoryStats> out;
  for (const auto& w : workers_) {
    for (auto& s : w->device.generator->DeviceMemory()) {
      if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.device == s.device; })) {
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

std::vector<pipeline::ResidentGroup> WorkerPool::ResidentNow() const {
  std::vector<pipeline::ResidentGroup> out;
  for (const auto& w : workers_) {
    for (auto& g : w->device.generator->ResidentNow()) out.push_back(std::move(g));
  }
  return out;
}

std::vector<std::pair<videogen::Device, WorkerState>> WorkerPool::WorkerStates() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<videogen::Device, WorkerState>> out;
  for (size_t i = 0; i < workers_.size(); ++i) out.emplace_back(workers_[i]->device.device, states_[i]);
  return out;
}

}  // namespace videogen::jobs

#include "server/jobs/job.h"

#include <algorithm>
#include <utility>

namespace videogen::jobs {

namespace {
std::unique_ptr<CancelToken> MakeToken(const std::optional<CancelToken::Clock::time_point>& deadline) {
  return deadline ? std::make_unique<CancelToken>(*deadline) : std::make_unique<CancelToken>();
}
size_t ImageBytes(const std::optional<pipeline::RgbImage>& image) { return image ? image->rgb.size() : 0; }
}  // namespace

size_t HeldBytes(const JobSpec& spec) {
  return ImageBytes(spec.request.image) + ImageBytes(spec.request.last_image) + spec.persisted_request.size() +
         spec.request.prompt.size();
}

namespace {
std::pair<JobSpec, JobInputs> SplitInputs(JobSpec spec) {
  JobInputs inputs;
  inputs.image = std::move(spec.request.image);
  inputs.last_image = std::move(spec.request.last_image);
  spec.request.image.reset();
  spec.request.last_image.reset();
  return {std::move(spec), std::move(inputs)};
}
size_t InputBytes(const JobInputs& inputs) { return ImageBytes(inputs.image) + ImageBytes(inputs.last_image); }
}  // namespace

Job::Job(std::string id, JobSpec spec, absl::Time created, int attempts)
    : Job(std::move(id), SplitInputs(std::move(spec)), created, attempts) {}

Job::Job(std::string id, std::pair<JobSpec, JobInputs> split, absl::Time created, int attempts)
    : id_(std::move(id)), spec_(std::move(split.first)), created_(created), cancel_(MakeToken(spec_.deadline)) {
  absl::MutexLock lock(&mu_);
  attempts_ = attempts;
  inputs_ = std::move(split.second);
}

JobInputs Job::TakeInputs() {
  absl::MutexLock lock(&mu_);
  return std::exchange(inputs_, JobInputs{});
}

JobSnapshot Job::Snapshot() const {
  absl::MutexLock lock(&mu_);
  JobSnapshot s;
  s.state = state_;
  s.attempt = attempts_;
  s.queue_position = state_ == JobState::kQueued ? queue_position_ : 0;
  s.stages = stages_;
  s.result = result_;
  s.error = error_;
  return s;
}

JobState Job::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

int Job::attempt() const {
  absl::MutexLock lock(&mu_);
  return attempts_;
}

void Job::SetJournal(JobJournal* journal) {
  absl::MutexLock lock(&mu_);
  journal_ = journal;
}

JobJournal* Job::journal() const {
  absl::MutexLock lock(&mu_);
  return journal_;
}

void Job::RestoreFinished(JobState state, std::shared_ptr<const JobResult> result, absl::Status error,
                          absl::Time finished) {
  absl::MutexLock lock(&mu_);
  state_ = state;
  result_ = std::move(result);
  error_ = std::move(error);
  finished_ = finished;
  inputs_ = JobInputs{};
}

void Job::AddObserver(std::weak_ptr<JobObserver> observer) {
  absl::MutexLock lock(&mu_);
  observers_.erase(std::remove_if(observers_.begin(), observers_.end(),
                                  [](const std::weak_ptr<JobObserver>& o) { return o.expired(); }),
                   observers_.end());
  if (IsTerminal(state_)) return;
  observers_.push_back(std::move(observer));
}

size_t Job::observer_count() const {
  absl::MutexLock lock(&mu_);
  return observers_.size();
}

void Job::NotifyObservers() {
  std::vector<std::shared_ptr<JobObserver>> live;
  {
    absl::MutexLock lock(&mu_);
    auto it = observers_.begin();
    while (it != observers_.end()) {
      if (auto o = it->lock()) {
        live.push_back(std::move(o));
        ++it;
      } else {
        it = observers_.erase(it);
      }
    }
  }
  for (const auto& o : live) o->OnJobChanged();
}

void Job::SetQueuePosition(int position, uint64_t epoch) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != JobState::kQueued || epoch < position_epoch_) return;
    position_epoch_ = epoch;
    if (queue_position_ == position) return;
    queue_position_ = position;
  }
  NotifyObservers();
}

bool Job::MarkRunning(absl::Time now) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != JobState::kQueued) return false;
    state_ = JobState::kRunning;
    ++attempts_;
    started_ = now;
    stage_started_ = now;
  }
  if (JobJournal* j = journal()) j->OnStarted(*this);
  NotifyObservers();
  return true;
}

void Job::CloseStageLocked(absl::Time now) {
  if (stages_.empty()) return;
  const pipeline::Stage current = stages_.back().stage;
  for (auto& t : timings_) {
    if (t.stage == current) {
      t.duration += now - stage_started_;
      stage_started_ = now;
      return;
    }
  }
  timings_.push_back(StageTiming{current, now - stage_started_});
  stage_started_ = now;
}

void Job::ReportProgress(pipeline::Stage stage, int step, int total_steps, absl::Time now, pipeline::Expert expert) {
  std::vector<JobProgress> stages;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != JobState::kRunning) return;
    if (stages_.empty() || stages_.back().stage != stage) {
      CloseStageLocked(now);
      stage_started_ = now;
      JobProgress fresh;
      fresh.stage = stage;
      stages_.push_back(fresh);
    }
    JobProgress& p = stages_.back();
    p.step = step;
    p.total_steps = total_steps;
    p.expert = expert;
    p.elapsed = now - started_;
    p.eta =
        step > 0 && total_steps > step ? (now - stage_started_) / step * (total_steps - step) : absl::ZeroDuration();
    p.seq = ++progress_seq_;
    stages = stages_;
  }
  if (JobJournal* j = journal()) j->OnProgress(*this, stages);
  NotifyObservers();
}

namespace {
bool SameProgress(const JobProgress& a, const JobProgress& b) {
  return a.stage == b.stage && a.step == b.step && a.total_steps == b.total_steps && a.expert == b.expert &&
         a.elapsed == b.elapsed && a.eta == b.eta;
}
}  // namespace

void Job::Mirror(const MirroredState& recorded) {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal(state_)) return;
    if (recorded.attempts != attempts_) {
      attempts_ = recorded.attempts;
      stages_.clear();
      changed = true;
    }
    if (recorded.state != state_) {
      state_ = recorded.state;
      changed = true;
    }
    if (state_ == JobState::kQueued && recorded.queue_position != queue_position_) {
      queue_position_ = recorded.queue_position;
      changed = true;
    }
    if (state_ != JobState::kQueued) {
      if (recorded.stages.size() < stages_.size()) stages_.clear();
      for (size_t i = 0; i < recorded.stages.size(); ++i) {
        if (i < stages_.size() && SameProgress(stages_[i], recorded.stages[i])) continue;
        JobProgress p = recorded.stages[i];
        p.seq = ++progress_seq_;
        if (i < stages_.size()) {
          stages_[i] = p;
        } else {
          stages_.push_back(p);
        }
        changed = true;
      }
    }
    if (IsTerminal(state_)) {
      result_ = recorded.result;
      error_ = recorded.error;
      finished_ = recorded.finished;
    }
  }
  if (!changed) return;
  NotifyObservers();
  absl::MutexLock lock(&mu_);
  if (IsTerminal(state_)) observers_.clear();  // it never changes again
}

void Job::Succeed(JobResult result, absl::Time now) {
  JobOutcome outcome;
  outcome.state = JobState::kSucceeded;
  outcome.finished = now;
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal(state_)) return;
    CloseStageLocked(now);
    result.timings = timings_;
  }
  outcome.result = std::make_shared<const JobResult>(std::move(result));
  Finish(std::move(outcome));
}

void Job::Fail(absl::Status status, absl::Time now) {
  if (status.ok()) status = absl::InternalError("job failed without a status");
  JobOutcome outcome;
  outcome.state = status.code() == absl::StatusCode::kCancelled ? JobState::kCancelled : JobState::kFailed;
  outcome.error = std::move(status);
  outcome.finished = now;
  Finish(std::move(outcome));
}

bool Job::Finish(JobOutcome outcome) {
  if (IsTerminal(state())) return false;
  if (JobJournal* j = journal()) j->OnFinished(*this, outcome);
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal(state_)) return false;
    state_ = outcome.state;
    result_ = std::move(outcome.result);
    error_ = std::move(outcome.error);
    finished_ = outcome.finished;
    inputs_ = JobInputs{};  // a job that never ran still held them
  }
  NotifyObservers();
  // A terminal job never notifies again: keep none of its observers.
  absl::MutexLock lock(&mu_);
  observers_.clear();
  return true;
}

absl::Time Job::finished_at() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

size_t Job::result_bytes() const {
  absl::MutexLock lock(&mu_);
  return result_ ? result_->bytes.size() : 0;
}

size_t Job::held_bytes() const {
  absl::MutexLock lock(&mu_);
  return (result_ ? result_->bytes.size() : 0) + InputBytes(inputs_) + HeldBytes(spec_);
}

}  // namespace videogen::jobs

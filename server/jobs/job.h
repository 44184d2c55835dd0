// A job: one generation request travelling through the queue and a worker,
// with its state, newest progress per stage, and (once done) its result.
// Readers (RPC reactors) take Snapshot()s and register JobObservers; the
// worker that runs the job is the only writer of progress and outcome.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/cancellation.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::jobs {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
inline bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled;
}


enum class OutputFormat { kMp4H264, kWebmVp9 };

struct OutputSpec {
  OutputFormat format = OutputFormat::kMp4H264;
  std::optional<int> quality;  // 0..100; unset: the encoder's default
  std::optional<double> fps;   // unset: the model's default fps
};

// Everything needed to run a job. `request.seed` is already chosen.
struct JobSpec {
  std::string model;
  pipeline::GenerationRequest request;
  OutputSpec output;
  int priority = 0;                                        // higher runs first; FIFO within a priority
  std::string client_request_id;                           // "" = no idempotency key
  std::optional<CancelToken::Clock::time_point> deadline;  // unset: none
  // Identifies the parameters for idempotency (the service layer: SHA-256 of
  // the request without client_request_id, before the seed is chosen). A key
  // reused with another fingerprint is refused (JobStore::InsertOrAttach).
  std::string fingerprint;
  // Opaque to the jobs layer: the request as the service layer persists it
  // (seed included). A durable store keeps it and has the service layer make
  // it into a JobSpec again after a restart. Empty: nothing to persist.
  std::string persisted_request;
};

// Bytes a spec holds in memory (decoded images, the persisted request).
size_t HeldBytes(const JobSpec& spec);

// A job's decoded input images: the large part of its request, held apart
// from its spec so that they can be released (Job::TakeInputs()).
struct JobInputs {
  std::optional<pipeline::RgbImage> image;
  std::optional<pipeline::RgbImage> last_image;
};

struct StageTiming {
  pipeline::Stage stage = pipeline::Stage::kTextEncoding;
  absl::Duration duration;
};

// What the encoded video is.
enum class Container { kMp4, kWebm };
enum class Codec { kH264, kVp9 };

// The encoded video and its description. Immutable once published.
struct JobResult {
  Container container = Container::kMp4;
  Codec codec = Codec::kH264;
  int width = 0;
  int height = 0;
  int frames = 0;
  double fps = 0;
  std::string bytes;
  std::string sha256;  // lowercase hex of `bytes`
  uint64_t seed = 0;
  std::vector<StageTiming> timings;
};

struct JobProgress {
  pipeline::Stage stage = pipeline::Stage::kTextEncoding;
  int step = 0;
  int total_steps = 0;
  pipeline::Expert expert = pipeline::Expert::kSingle;  // denoising of an expert pair: the last step's
  absl::Duration elapsed;  // since the job started running
  absl::Duration eta;      // estimate for the current stage; zero when unknown
  uint64_t seq = 0;        // increases with every update of the job's progress
};

// A consistent copy of a job's observable state.
struct JobSnapshot {
  JobState state = JobState::kQueued;
  int attempt = 0;                          // times the job has been started (>1: re-run after a restart)
  int queue_position = 0;                   // 1 = next to run; 0 when not queued
  std::vector<JobProgress> stages;          // newest progress of each stage seen, in order
  std::shared_ptr<const JobResult> result;  // set when kSucceeded
  absl::Status error;                       // set when kFailed / kCancelled
};

// Told that a job changed; it then takes a Snapshot(). Called on the thread
// that changed the job, with no job lock held; must not block.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  virtual void OnJobChanged() = 0;
};

class Job;

// The outcome of a job as it is recorded.
struct JobOutcome {
  JobState state = JobState::kFailed;        // terminal
  std::shared_ptr<const JobResult> result;   // kSucceeded
  absl::Status error;                        // otherwise
  absl::Time finished;
};

// Records a job's transitions durably (a persistent JobStore). Called on the
// thread that makes the transition, with no job lock held. OnStarted comes
// right after the job became kRunning; OnFinished before the outcome is
// visible to anyone (Snapshot, observers): a client that sees a job end can
// rely on its outcome surviving a restart. A job has one writer at a time
// (its queue's owner, then its worker). Must be thread-safe; failures are the
// journal's to log.
class JobJournal {
 public:
  virtual ~JobJournal() = default;
  virtual void OnStarted(const Job& job) = 0;
  // After the job's progress changed to `stages` (every stage seen, newest
  // last), before observers are told. Default: not recorded.
  virtual void OnProgress(const Job& job, const std::vector<JobProgress>& stages) {}
  virtual void OnFinished(const Job& job, const JobOutcome& outcome) = 0;
};

// What a shared store recorded for a job whose worker may be on another
// server: the local copy takes it with Job::Mirror().
struct MirroredState {
  JobState state = JobState::kQueued;
  int attempts = 0;
  int queue_position = 0;                   // while queued
  std::vector<JobProgress> stages;          // of the current attempt; seq is ignored
  std::shared_ptr<const JobResult> result;  // kSucceeded
  absl::Status error;                       // kFailed / kCancelled
  absl::Time finished = absl::InfinitePast();
};

// Thread-safe.
class Job {
 public:
  // `attempts`: times the job was started before (a job restored after a
  // restart); the next MarkRunning() makes it attempts + 1.
  Job(std::string id, JobSpec spec, absl::Time created, int attempts = 0);
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  const std::string& id() const { return id_; }
  // The spec as submitted, except its request's `image` and `last_image`,
  // which the job holds apart until TakeInputs() or the end of the job.
  const JobSpec& spec() const { return spec_; }
  // Hands the input images over to the caller (the worker that runs the
  // job; it passes them to the generator and drops them when it returns):
  // the job holds no images from then on, and none once it is terminal.
  // A second call returns empty inputs.
  JobInputs TakeInputs();
  absl::Time created() const { return created_; }
  // Checked by the generator between steps; fired by Cancel() and deadlines.
  const CancelToken& cancel_token() const { return *cancel_; }

  JobSnapshot Snapshot() const;
  JobState state() const;
  int attempt() const;

  // Set once, by the store that keeps the job, before any transition.
  void SetJournal(JobJournal* journal);
  // A job restored in a terminal state (state, result for kSucceeded, error
  // otherwise, when it finished). Tells neither journal nor observers.
  void RestoreFinished(JobState state, std::shared_ptr<const JobResult> result, absl::Status error,
                       absl::Time finished);

  // A copy of a job another server (or this server's worker, through the
  // store) runs takes the recorded state: a new attempt starts its stages
  // afresh; changed stages get new progress seqs; a terminal copy never
  // changes again. Observers are told when anything changed; the journal
  // never is.
  void Mirror(const MirroredState& recorded);

  // Observers are held weakly: an observer that is destroyed stops receiving
  // calls (it must not be destroyed while inside OnJobChanged()) and its
  // entry is dropped by the next AddObserver() or notification. A terminal
  // job never changes again: its observers are not kept at all.
  void AddObserver(std::weak_ptr<JobObserver> observer);
  // Observer entries held now (for tests: bounded by the live observers).
  size_t observer_count() const;

  // Asks the job to stop: a queued job is failed by its owner, a running one
  // stops at the generator's next cancellation check.
  void RequestCancel() { cancel_->Cancel(); }

  // ---- Transitions (the queue and the worker) ----
  // Positions from older `epoch`s than the last applied one are ignored.
  void SetQueuePosition(int position, uint64_t epoch);
  // kQueued -> kRunning; false when the job is already terminal.
  bool MarkRunning(absl::Time now);
  void ReportProgress(pipeline::Stage stage, int step, int total_steps, absl::Time now,
                      pipeline::Expert expert = pipeline::Expert::kSingle);
  // -> kSucceeded; the last stage's timing is closed at `now`.
  void Succeed(JobResult result, absl::Time now);
  // -> kCancelled for a Cancelled status, kFailed otherwise. No-op when terminal.
  void Fail(absl::Status status, absl::Time now);

  // When the job became terminal (InfinitePast while not terminal).
  absl::Time finished_at() const;
  // Bytes of the retained result (0 until succeeded).
  size_t result_bytes() const;
  // Everything the job holds in memory: the result, its spec and the input
  // images it still holds.
  size_t held_bytes() const;

 private:
  Job(std::string id, std::pair<JobSpec, JobInputs> split, absl::Time created, int attempts);
  void NotifyObservers();
  JobJournal* journal() const;
  // Records then publishes `outcome`; false (nothing done) when already terminal.
  bool Finish(JobOutcome outcome);
  void CloseStageLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string id_;
  const JobSpec spec_;
  const absl::Time created_;
  const std::unique_ptr<CancelToken> cancel_;

  mutable absl::Mutex mu_;
  JobState state_ ABSL_GUARDED_BY(mu_) = JobState::kQueued;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  JobJournal* journal_ ABSL_GUARDED_BY(mu_) = nullptr;
  int queue_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t position_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<JobProgress> stages_ ABSL_GUARDED_BY(mu_);
  uint64_t progress_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time started_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time stage_started_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time finished_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<StageTiming> timings_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const JobResult> result_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<JobObserver>> observers_ ABSL_GUARDED_BY(mu_);
  JobInputs inputs_ ABSL_GUARDED_BY(mu_);  // released by TakeInputs() and Finish()
};

}  // namespace videogen::jobs

// What the job machinery reports to observers such as metrics, without
// depending on them. Calls come from worker and RPC threads; implementations
// must be thread-safe and must not block.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/jobs/job.h"

namespace videogen::jobs {

enum class WorkerState { kWarming, kIdle, kBusy, kFailed, kStopped };
const char* WorkerStateName(WorkerState state);  // "warming", "idle", ...

class JobListener {
 public:
  virtual ~JobListener() = default;
  virtual void OnQueueDepth(size_t depth) {}
  // A worker took the job after it waited `queued_for`.
  virtual void OnJobStarted(const Job& job, absl::Duration queued_for) {}
  // One denoising step of `job` took `duration`.
  virtual void OnDenoiseStep(const Job& job, absl::Duration duration) {}
  // The job ended with `outcome` (OK when it succeeded). `ran` is unset when
  // it never started (cancelled, expired or drained while queued). For a job
  // that ran, called before its final state is published to watchers.
  virtual void OnJobFinished(const Job& job, const absl::Status& outcome, std::optional<absl::Duration> ran,
                             size_t video_bytes) {}
  virtual void OnWorkerState(const videogen::Device& device, WorkerState state) {}
};

}  // namespace videogen::jobs

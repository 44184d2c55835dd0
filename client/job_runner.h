// Runs one job to its end from the client's side: submits it (GenerateVideo)
// or attaches to it (WatchJob), feeds events to the printer and video chunks
// to the assembler, and when the stream breaks after the job was accepted,
// re-attaches with WatchJob from the assembler's next offset, with bounded
// exponential backoff (the attempt counter resets whenever an event arrives).
// A stream that breaks before any event of the job arrived is not retried: its
// status decides the exit code (e.g. UNAVAILABLE -> 3 when the server is down).
//
// Cancellation (Ctrl-C): RequestCancel() asks the server to cancel the job
// (CancelJob); the stream then ends with Failed{CANCELLED} -> exit 5. If the
// job id is not known yet, the cancel is sent as soon as it is. If the server
// cannot be told (unreachable), the local call is abandoned and Generate() /
// Watch() return kCancelled with a message saying the job may still be running.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "client/exit_code.h"
#include "client/progress.h"
#include "client/video_assembler.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::client {

struct JobRunnerOptions {
  // Re-attach attempts in a row without receiving an event before giving up.
  int max_reattach_attempts = 5;
  // Wait before the n-th attempt: initial_backoff * 2^(n-1), at most max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(4);
  // Deadline of the whole job (submit to last byte); unset: none.
  std::optional<absl::Duration> timeout;
};

struct JobOutcome {
  ExitCode exit_code = ExitCode::kError;
  std::string job_id;                    // "" when never accepted
  std::optional<v1::Completed> completed;  // set on kOk
  std::string error;                     // one line, for kOk empty
  int reattach_attempts = 0;             // total re-attach attempts made
};

// Thread safety: Generate() / Watch() on one thread; RequestCancel() from any
// other (e.g. the signal thread) while one of them is in progress.
class JobRunner {
 public:
  // Borrows all three; they must outlive the runner. `printer` calls are
  // serialised by the runner.
  JobRunner(Connection* connection, ProgressPrinter* printer, VideoAssembler* assembler,
            JobRunnerOptions options);
  // Waits for an outstanding CancelJob call to complete.
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Submits `request` and follows the job to its end.
  JobOutcome Generate(const v1::GenerateVideoRequest& request);
  // Follows an existing job (its remaining progress, then its video from the start).
  JobOutcome Watch(const std::string& job_id);

  // First call: starts cancelling and returns true; never blocks (CancelJob
  // is sent asynchronously). Later calls return false (the caller then exits
  // at once).
  bool RequestCancel();

 private:
  struct CancelCall;
  struct RunState;

  // Generate() (`request` set) and Watch() (`job_id` set).
  JobOutcome Run(const v1::GenerateVideoRequest* request, std::string job_id);
  // Sets the outcome's code, error and the job id known now; returns it.
  JobOutcome Conclude(RunState& run, ExitCode code, std::string error);
  // Makes `context` the active call (the one a failed CancelJob abandons),
  // unless the job was cancelled locally already: then returns why and
  // registers nothing.
  std::optional<std::string> BeginCall(grpc::ClientContext* context, bool first);
  void EndCall();
  // The run's first stream submits the request (GenerateVideo); the others
  // attach to the job (WatchJob) from the assembler's next offset.
  std::unique_ptr<grpc::ClientReader<v1::JobEvent>> OpenStream(grpc::ClientContext* context, const RunState& run);
  // Feeds events to the printer and the assembler until the job's terminal
  // event (its outcome is returned) or the stream's end (nullopt).
  std::optional<JobOutcome> ReadUntilTerminal(grpc::ClientReader<v1::JobEvent>& reader, RunState& run);
  std::optional<JobOutcome> HandleEvent(const v1::JobEvent& event, RunState& run);
  // After a stream ended with `status` and no terminal event: the run's
  // outcome (the partial video is discarded), or nullopt to re-attach.
  std::optional<JobOutcome> AfterStreamEnded(const grpc::Status& status, bool was_first, RunState& run);
  static bool CanReattach(const grpc::Status& status, const std::string& known_id, const RunState& run);
  // Counts the attempt, reports it and waits its backoff (cut short by a cancel request).
  void WaitBeforeReattach(const grpc::Status& status, RunState& run);
  // Starts CancelJob for `job_id` (asynchronous); on failure it records the
  // error and abandons the active call.
  void SendCancel(const std::string& job_id);
  void SetJobId(const std::string& job_id);

  Connection* const connection_;
  ProgressPrinter* const printer_;
  VideoAssembler* const assembler_;
  const JobRunnerOptions options_;

  absl::Mutex print_mu_;  // serialises printer_ calls (Run thread vs signal thread)

  absl::Mutex mu_;
  std::string job_id_ ABSL_GUARDED_BY(mu_);
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_sent_ ABSL_GUARDED_BY(mu_) = false;
  std::string cancel_error_ ABSL_GUARDED_BY(mu_);  // why the server could not be told
  grpc::ClientContext* active_call_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::unique_ptr<CancelCall> cancel_call_ ABSL_GUARDED_BY(mu_);
};

}  // namespace videogen::client

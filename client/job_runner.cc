#include "client/job_runner.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace videogen::client {
namespace {

std::string RpcError(const grpc::Status& status) {
  return absl::StrCat(StatusCodeName(status.error_code()), ": ", status.error_message());
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::ABORTED;
}

// Why a stream ended without a terminal event.
std::string StreamEndReason(const grpc::Status& status) {
  return status.ok() ? std::string("stream ended without a result") : RpcError(status);
}

std::string CancelledLocally(const std::string& why) {
  return absl::StrCat("cancelled locally; the server could not be told (", why, "), the job may still be running");
}

}  // namespace

JobRunner::JobRunner(Connection* connection, ProgressPrinter* printer, VideoAssembler* assembler,
                     JobRunnerOptions options)
    : connection_(connection), printer_(printer), assembler_(assembler), options_(std::move(options)) {}

JobOutcome JobRunner::Generate(const v1::GenerateVideoRequest& request) { return Run(&request, ""); }

JobOutcome JobRunner::Watch(const std::string& job_id) { return Run(nullptr, job_id); }

void JobRunner::SetJobId(const std::string& job_id) {
  bool send_cancel = false;
  {
    absl::MutexLock lock(&mu_);
    if (!job_id_.empty() || job_id.empty()) return;
    job_id_ = job_id;
    send_cancel = cancel_requested_ && !cancel_sent_;
    if (send_cancel) cancel_sent_ = true;
  }
  if (send_cancel) SendCancel(job_id);
}

bool JobRunner::RequestCancel() {
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    if (cancel_requested_) return false;
    cancel_requested_ = true;
    job_id = job_id_;
    if (!job_id.empty()) cancel_sent_ = true;
  }
  {
    absl::MutexLock lock(&print_mu_);
    printer_->OnCancelRequested(job_id);
  }
  if (!job_id.empty()) SendCancel(job_id);
  return true;
}

struct JobRunner::CancelCall {
  grpc::ClientContext context;
  v1::CancelJobRequest request;
  v1::Job response;
  absl::Notification done;
};

JobRunner::~JobRunner() {
  CancelCall* call;
  {
    absl::MutexLock lock(&mu_);
    call = cancel_call_.get();
  }
  if (call != nullptr) call->done.WaitForNotification();
}

void JobRunner::SendCancel(const std::string& job_id) {
  auto call = std::make_unique<CancelCall>();
  connection_->Prepare(&call->context);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  call->request.set_job_id(job_id);
  CancelCall* raw = call.get();
  {
    absl::MutexLock lock(&mu_);
    cancel_call_ = std::move(call);
  }
  connection_->stub()->async()->CancelJob(&raw->context, &raw->request, &raw->response,
                                          [this, raw](grpc::Status status) {
                                            if (!status.ok()) {
                                              absl::MutexLock lock(&mu_);
                                              cancel_error_ = RpcError(status);
                                              if (active_call_ != nullptr) active_call_->TryCancel();
                                            }
                                            raw->done.Notify();
                                          });
}

struct JobRunner::RunState {
  const v1::GenerateVideoRequest* request = nullptr;  // null: watching an existing job
  std::optional<absl::Time> deadline;                 // of the whole run
  JobOutcome outcome;
  int failures = 0;           // consecutive re-attach attempts without an event
  bool first = true;          // the next stream is the run's first
  bool received_any = false;  // some event arrived in this run
};

JobOutcome JobRunner::Run(const v1::GenerateVideoRequest* request, std::string job_id) {
  RunState run;
  run.request = request;
  if (options_.timeout) run.deadline = absl::Now() + *options_.timeout;
  if (request == nullptr) SetJobId(job_id);
  while (true) {
    grpc::ClientContext context;
    connection_->Prepare(&context);
    if (run.deadline) context.set_deadline(absl::ToChronoTime(*run.deadline));
    if (std::optional<std::string> why = BeginCall(&context, run.first)) {
      return Conclude(run, ExitCode::kCancelled, *std::move(why));
    }
    std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader = OpenStream(&context, run);
    const bool was_first = run.first;
    run.first = false;
    std::optional<JobOutcome> terminal = ReadUntilTerminal(*reader, run);
    if (terminal) context.TryCancel();  // nothing more is needed from this stream
    const grpc::Status status = reader->Finish();
    EndCall();
    if (terminal) {
      if (terminal->exit_code != ExitCode::kOk) assembler_->Abort();
      return *terminal;
    }
    if (std::optional<JobOutcome> end = AfterStreamEnded(status, was_first, run)) return *end;
    WaitBeforeReattach(status, run);
  }
}

JobOutcome JobRunner::Conclude(RunState& run, ExitCode code, std::string error) {
  run.outcome.exit_code = code;
  run.outcome.error = std::move(error);
  absl::MutexLock lock(&mu_);
  run.outcome.job_id = job_id_;
  return run.outcome;
}

std::optional<std::string> JobRunner::BeginCall(grpc::ClientContext* context, bool first) {
  absl::MutexLock lock(&mu_);
  if (cancel_requested_ && (!cancel_error_.empty() || (job_id_.empty() && !first))) {
    return CancelledLocally(cancel_error_.empty() ? "no job id yet" : cancel_error_);
  }
  active_call_ = context;
  return std::nullopt;
}

void JobRunner::EndCall() {
  absl::MutexLock lock(&mu_);
  active_call_ = nullptr;
}

std::unique_ptr<grpc::ClientReader<v1::JobEvent>> JobRunner::OpenStream(grpc::ClientContext* context,
                                                                        const RunState& run) {
  if (run.first && run.request != nullptr) return connection_->stub()->GenerateVideo(context, *run.request);
  v1::WatchJobRequest watch;
  {
    absl::MutexLock lock(&mu_);
    watch.set_job_id(job_id_);
  }
  watch.set_from_offset(assembler_->next_offset());
  return connection_->stub()->WatchJob(context, watch);
}

std::optional<JobOutcome> JobRunner::ReadUntilTerminal(grpc::ClientReader<v1::JobEvent>& reader, RunState& run) {
  v1::JobEvent event;
  while (reader.Read(&event)) {
    run.failures = 0;
    run.received_any = true;
    if (std::optional<JobOutcome> terminal = HandleEvent(event, run)) return terminal;
  }
  return std::nullopt;
}

std::optional<JobOutcome> JobRunner::HandleEvent(const v1::JobEvent& event, RunState& run) {
  if (event.has_accepted()) {
    SetJobId(event.accepted().job_id().empty() ? event.job_id() : event.accepted().job_id());
  } else {
    SetJobId(event.job_id());
  }
  {
    absl::MutexLock lock(&print_mu_);
    printer_->OnEvent(event);
  }
  if (event.has_video_chunk()) {
    const absl::Status s = assembler_->Append(event.video_chunk().offset(), event.video_chunk().data());
    if (!s.ok()) return Conclude(run, ExitCodeForLocal(s), std::string(s.message()));
  } else if (event.has_completed()) {
    const v1::Completed& c = event.completed();
    const absl::Status s = assembler_->Finish(c.bytes(), c.sha256());
    if (!s.ok()) return Conclude(run, ExitCode::kError, std::string(s.message()));
    run.outcome.completed = c;
    return Conclude(run, ExitCode::kOk, "");
  } else if (event.has_failed()) {
    const v1::Failed& f = event.failed();
    return Conclude(run, ExitCodeForJobFailure(f.code()), absl::StrCat(StatusCodeName(f.code()), ": ", f.message()));
  }
  return std::nullopt;
}

std::optional<JobOutcome> JobRunner::AfterStreamEnded(const grpc::Status& status, bool was_first, RunState& run) {
  std::string known_id;
  bool cancel_requested;
  std::string cancel_error;
  {
    absl::MutexLock lock(&mu_);
    known_id = job_id_;
    cancel_requested = cancel_requested_;
    cancel_error = cancel_error_;
  }
  std::optional<JobOutcome> end;
  if (cancel_requested && !cancel_error.empty()) {
    end = Conclude(run, ExitCode::kCancelled, CancelledLocally(cancel_error));
  } else if (cancel_requested && status.error_code() == grpc::StatusCode::CANCELLED) {
    end = Conclude(run, ExitCode::kCancelled, RpcError(status));
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && run.deadline &&
             absl::Now() >= *run.deadline) {
    end = Conclude(run, ExitCode::kUnavailable,
                   absl::StrCat("timeout: no result within ", absl::FormatDuration(*options_.timeout),
                                known_id.empty() ? "" : absl::StrCat(" (job ", known_id, " continues on the server)")));
  } else if (!CanReattach(status, known_id, run)) {
    end = !was_first && status.error_code() == grpc::StatusCode::NOT_FOUND
              ? Conclude(run, ExitCode::kJobFailed,
                         absl::StrCat("job ", known_id, " is no longer known to the server: ", RpcError(status)))
              : Conclude(run, ExitCodeForRpc(status.error_code()), RpcError(status));
  } else if (run.failures >= options_.max_reattach_attempts) {
    end = Conclude(run, ExitCode::kUnavailable,
                   absl::StrCat("lost the connection to job ", known_id, " and could not re-attach after ",
                                run.failures, " attempts: ", StreamEndReason(status)));
  }
  if (end) assembler_->Abort();
  return end;
}

bool JobRunner::CanReattach(const grpc::Status& status, const std::string& known_id, const RunState& run) {
  // Re-attach only to a job this run has heard from (a `watch` of a server
  // that is down fails at once, like a submission).
  return run.received_any && !known_id.empty() &&
         (status.ok() /* ended without a result */ || Retryable(status.error_code()));
}

void JobRunner::WaitBeforeReattach(const grpc::Status& status, RunState& run) {
  ++run.failures;
  ++run.outcome.reattach_attempts;
  absl::Duration backoff = options_.initial_backoff;
  for (int i = 1; i < run.failures && backoff < options_.max_backoff; ++i) backoff *= 2;
  backoff = std::min(backoff, options_.max_backoff);
  {
    absl::MutexLock lock(&print_mu_);
    printer_->OnReattach(run.failures, options_.max_reattach_attempts, assembler_->next_offset(),
                         StreamEndReason(status));
  }
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancel_requested_), backoff);
}

}  // namespace videogen::client

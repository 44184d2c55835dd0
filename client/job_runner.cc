#include "client/job_runner.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <memory>

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

JobOutcome JobRunner::Run(const v1::GenerateVideoRequest* request, std::string job_id) {
  const absl::Time start = absl::Now();
  const std::optional<absl::Time> deadline =
      options_.timeout ? std::optional<absl::Time>(start + *options_.timeout) : std::nullopt;
  const bool watching = request == nullptr;
  if (watching) SetJobId(job_id);
  JobOutcome outcome;
  int failures = 0;  // consecutive re-attach attempts without an event
  bool first = true;
  bool received_any = false;  // some event arrived in this run

  auto finish = [&](ExitCode code, std::string error) {
    outcome.exit_code = code;
    outcome.error = std::move(error);
    absl::MutexLock lock(&mu_);
    outcome.job_id = job_id_;
    return outcome;
  };

  while (true) {
    grpc::ClientContext context;
    connection_->Prepare(&context);
    if (deadline) context.set_deadline(absl::ToChronoTime(*deadline));
    {
      absl::MutexLock lock(&mu_);
      if (cancel_requested_ && (!cancel_error_.empty() || (job_id_.empty() && !first))) {
        return finish(ExitCode::kCancelled,
                      absl::StrCat("cancelled locally; the server could not be told (",
                                   cancel_error_.empty() ? "no job id yet" : cancel_error_,
                                   "), the job may still be running"));
      }
      active_call_ = &context;
    }
    std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader;
    std::string current_id;
    {
      absl::MutexLock lock(&mu_);
      current_id = job_id_;
    }
    if (first && !watching) {
      reader = connection_->stub()->GenerateVideo(&context, *request);
    } else {
      v1::WatchJobRequest watch;
      watch.set_job_id(current_id);
      watch.set_from_offset(assembler_->next_offset());
      reader = connection_->stub()->WatchJob(&context, watch);
    }
    const bool was_first = first;
    first = false;

    v1::JobEvent event;
    std::optional<JobOutcome> terminal;
    while (!terminal && reader->Read(&event)) {
      failures = 0;
      received_any = true;
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
        if (!s.ok()) terminal = finish(ExitCodeForLocal(s), std::string(s.message()));
      } else if (event.has_completed()) {
        const v1::Completed& c = event.completed();
        const absl::Status s = assembler_->Finish(c.bytes(), c.sha256());
        if (!s.ok()) {
          terminal = finish(ExitCode::kError, std::string(s.message()));
        } else {
          outcome.completed = c;
          terminal = finish(ExitCode::kOk, "");
        }
      } else if (event.has_failed()) {
        const v1::Failed& f = event.failed();
        terminal = finish(ExitCodeForJobFailure(f.code()),
                          absl::StrCat(StatusCodeName(f.code()), ": ", f.message()));
      }
    }
    if (terminal) context.TryCancel();  // nothing more is needed from this stream
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      active_call_ = nullptr;
    }
    if (terminal) {
      if (terminal->exit_code != ExitCode::kOk) assembler_->Abort();
      return *terminal;
    }

    std::string known_id;
    bool cancel_requested;
    std::string cancel_error;
    {
      absl::MutexLock lock(&mu_);
      known_id = job_id_;
      cancel_requested = cancel_requested_;
      cancel_error = cancel_error_;
    }
    if (cancel_requested && !cancel_error.empty()) {
      assembler_->Abort();
      return finish(ExitCode::kCancelled, absl::StrCat("cancelled locally; the server could not be told (",
                                                       cancel_error, "), the job may still be running"));
    }
    if (cancel_requested && status.error_code() == grpc::StatusCode::CANCELLED) {
      assembler_->Abort();
      return finish(ExitCode::kCancelled, RpcError(status));
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && deadline && absl::Now() >= *deadline) {
      assembler_->Abort();
      return finish(ExitCode::kUnavailable,
                    absl::StrCat("timeout: no result within ", absl::FormatDuration(*options_.timeout),
                                 known_id.empty() ? "" : absl::StrCat(" (job ", known_id, " continues on the server)")));
    }
    // Re-attach only to a job this run has heard from (a `watch` of a server
    // that is down fails at once, like a submission).
    const bool can_reattach = received_any && !known_id.empty() &&
                              (status.ok() /* ended without a result */ || Retryable(status.error_code()));
    if (!can_reattach) {
      assembler_->Abort();
      if (!was_first && status.error_code() == grpc::StatusCode::NOT_FOUND) {
        return finish(ExitCode::kJobFailed,
                      absl::StrCat("job ", known_id, " is no longer known to the server: ", RpcError(status)));
      }
      return finish(ExitCodeForRpc(status.error_code()), RpcError(status));
    }
    if (failures >= options_.max_reattach_attempts) {
      assembler_->Abort();
      return finish(ExitCode::kUnavailable,
                    absl::StrCat("lost the connection to job ", known_id, " and could not re-attach after ",
                                 failures, " attempts: ",
                                 status.ok() ? std::string("stream ended without a result") : RpcError(status)));
    }
    ++failures;
    ++outcome.reattach_attempts;
    absl::Duration backoff = options_.initial_backoff;
    for (int i = 1; i < failures && backoff < options_.max_backoff; ++i) backoff *= 2;
    backoff = std::min(backoff, options_.max_backoff);
    {
      absl::MutexLock lock(&print_mu_);
      printer_->OnReattach(failures, options_.max_reattach_attempts, assembler_->next_offset(),
                           status.ok() ? std::string("stream ended without a result") : RpcError(status));
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&cancel_requested_), backoff);
  }
}

}  // namespace videogen::client

#include "server/service/job_event_stream_reactor.h"

#include <utility>

#include "server/log/log.h"
#include "server/service/convert.h"

namespace videogen::service {

// The job's observer. Keeps the reactor alive while a Pump runs in it, and
// deletes the reactor when OnDone came during such a run.
class JobEventStreamReactor::Link final : public jobs::JobObserver, public std::enable_shared_from_this<Link> {
 public:
  explicit Link(JobEventStreamReactor* reactor) : reactor_(reactor) {}

  void OnJobChanged() override { Run(); }

  void Run() {
    std::shared_ptr<Link> keep = shared_from_this();
    JobEventStreamReactor* reactor;
    {
      absl::MutexLock lock(&mu_);
      if (reactor_ == nullptr || done_) return;
      reactor = reactor_;
      ++active_;
    }
    reactor->Pump();
    JobEventStreamReactor* to_delete = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (--active_ == 0 && done_) std::swap(to_delete, reactor_);
    }
    delete to_delete;
  }

  // OnDone(): deletes the reactor now, or when the running Pump returns.
  void Done() {
    JobEventStreamReactor* to_delete = nullptr;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      if (active_ == 0) std::swap(to_delete, reactor_);
    }
    delete to_delete;
  }

 private:
  absl::Mutex mu_;
  JobEventStreamReactor* reactor_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

JobEventStreamReactor::JobEventStreamReactor(ActiveStreams* streams)
    : streams_(streams), link_(std::make_shared<Link>(this)) {
  streams_->Add();
}

JobEventStreamReactor::~JobEventStreamReactor() { streams_->Remove(); }

void JobEventStreamReactor::Attach(std::shared_ptr<jobs::Job> job, JobEventCursor cursor,
                                   std::function<void()> on_cancel) {
  {
    absl::MutexLock lock(&mu_);
    job_ = job;
    cursor_.emplace(std::move(cursor));
    if (!cancelled_) {
      on_cancel_ = std::move(on_cancel);
      on_cancel = nullptr;
    }  // else: cancelled before the call had a job; runs now
  }
  if (on_cancel) on_cancel();
  job->AddObserver(link_);
  link_->Run();
}

bool JobEventStreamReactor::CallCancelled() {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void JobEventStreamReactor::Reject(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    finish_called_ = true;
  }
  Finish(ToGrpcStatus(status));
}

void JobEventStreamReactor::Pump() {
  v1::JobEvent* to_write = nullptr;
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    if (finish_called_ || write_in_flight_ || !cursor_) return;
    if (cancelled_) {
      finish_called_ = true;
      finish = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
    } else {
      const jobs::JobSnapshot snapshot = job_->Snapshot();
      switch (cursor_->Next(snapshot, &event_)) {
        case JobEventCursor::Step::kWait:
          return;
        case JobEventCursor::Step::kTerminal:
          final_status_ = event_.has_failed() ? grpc::Status(static_cast<grpc::StatusCode>(event_.failed().code()),
                                                             event_.failed().message())
                                              : grpc::Status::OK;
          [[fallthrough]];
        case JobEventCursor::Step::kEvent:
          write_in_flight_ = true;
          to_write = &event_;
          break;
        case JobEventCursor::Step::kDone:
          finish_called_ = true;
          finish = final_status_;
          break;
        case JobEventCursor::Step::kRefused:
          finish_called_ = true;
          finish = ToGrpcStatus(cursor_->refusal());
          break;
      }
    }
  }
  // Outside the lock: gRPC may run reactions inline.
  if (to_write != nullptr) StartWrite(to_write);
  if (finish) Finish(*finish);
}

void JobEventStreamReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) cancelled_ = true;
  }
  link_->Run();
}

void JobEventStreamReactor::OnCancel() {
  std::function<void()> on_cancel;
  bool by_client;  // not the server's own Finish with an error
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    on_cancel = std::move(on_cancel_);
    by_client = !finish_called_;
    if (job_ != nullptr) job_id = job_->id();
  }
  if (by_client) logging::LogEvent("rpc_cancelled", {{"job_id", job_id.empty() ? "none" : job_id}});
  if (on_cancel) on_cancel();
  link_->Run();
}

void JobEventStreamReactor::OnDone() { link_->Done(); }

}  // namespace videogen::service

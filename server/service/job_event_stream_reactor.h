// The common part of the two job-streaming RPCs (GenerateVideo, WatchJob): a
// write reactor that follows one job. Reactions never block: a job change or a
// finished write computes the next event (JobEventCursor) and starts it; at
// most one write is in flight; nothing is queued, so a slow reader holds one
// event, whatever the job does. The subclasses are the per-RPC `final`
// reactors.
//
// Lifetime: gRPC owns the reactor; it deletes itself after OnDone(), once no
// job notification is running inside it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/jobs/job.h"
#include "server/service/active_streams.h"
#include "server/service/job_event_cursor.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::service {

class JobEventStreamReactor : public grpc::ServerWriteReactor<v1::JobEvent> {
 public:
  ~JobEventStreamReactor() override;

 protected:
  // Counted in `streams` (must outlive the reactor) until destroyed.
  explicit JobEventStreamReactor(ActiveStreams* streams);

  // Starts streaming `job`'s events; call at most once, at the end of the
  // subclass constructor or later from another thread (before any Reject).
  // `on_cancel` (may be empty) runs once if the call is cancelled by the
  // client or its deadline, at once if that already happened.
  void Attach(std::shared_ptr<jobs::Job> job, JobEventCursor cursor, std::function<void()> on_cancel);
  // Ends the call with `status` (instead of Attach).
  void Reject(const absl::Status& status);
  // Whether the client or the deadline cancelled the call (OnCancel ran).
  bool CallCancelled();

 private:
  class Link;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  // Starts the next write or the Finish when due. Only through Link::Run().
  void Pump();

  // Constant after construction.
  ActiveStreams* const streams_;
  const std::shared_ptr<Link> link_;

  absl::Mutex mu_;
  std::shared_ptr<jobs::Job> job_ ABSL_GUARDED_BY(mu_);
  std::optional<JobEventCursor> cursor_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
  v1::JobEvent event_ ABSL_GUARDED_BY(mu_);  // the event in flight
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace videogen::service

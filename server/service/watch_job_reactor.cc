#include "server/service/watch_job_reactor.h"


namespace videogen::service {

WatchJobReactor::WatchJobReactor(const ServiceContext& context, grpc::CallbackServerContext* call,
                                 const ParsedRequest<v1::WatchJobRequest>& parsed)
    : JobEventStreamReactor(context.streams) {
  if (absl::Status s = context.Authenticate(*call); !s.ok()) {
    Reject(s);
    return;
  }
  if (!parsed.Parse().ok()) {
    Reject(parsed.Parse());
    return;
  }
  const v1::WatchJobRequest& request = parsed.message();
  if (request.job_id().empty()) {
    Reject(absl::InvalidArgumentError("job_id: required"));
    return;
  }
  auto job = context.jobs->Find(request.job_id());
  if (!job.ok()) {
    Reject(job.status());
    return;
  }
  const jobs::JobSnapshot snapshot = (*job)->Snapshot();
  if (snapshot.result && request.from_offset() > snapshot.result->bytes.size()) {
    Reject(FromOffsetBeyondVideo(request.from_offset(), snapshot.result->bytes.size()));
    return;
  }
  Attach(*job, JobEventCursor((*job)->id(), /*send_accepted=*/false, request.from_offset()), nullptr);
}

}  // namespace videogen::service

// WatchJob: re-attaches to a job (after a disconnect) and streams its
// remaining events: queue position or progress, then the video from
// from_offset, then completed | failed. NotFound for unknown or evicted jobs.
// Cancelling the call never cancels the job.
#pragma once

#include "server/service/job_event_stream_reactor.h"
#include "server/service/parsed_request.h"
#include "server/service/service_context.h"

namespace videogen::service {

class WatchJobReactor final : public JobEventStreamReactor {
 public:
  // `context` must outlive the call.
  WatchJobReactor(const ServiceContext& context, grpc::CallbackServerContext* call,
                  const ParsedRequest<v1::WatchJobRequest>& parsed);
};

}  // namespace videogen::service

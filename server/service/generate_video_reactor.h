// GenerateVideo: validates and submits the request (or attaches to the job
// with the same client_request_id), then streams accepted -> queued ->
// progress -> video_chunk... -> completed | failed. The call's deadline
// becomes the job's deadline. Cancelling the call cancels the job only when
// the request sets cancel_job_with_call.
#pragma once

#include "server/service/job_event_stream_reactor.h"
#include "server/service/parsed_request.h"
#include "server/service/service_context.h"

namespace videogen::service {

class GenerateVideoReactor final : public JobEventStreamReactor {
 public:
  // `context` must outlive the call.
  GenerateVideoReactor(const ServiceContext& context, grpc::CallbackServerContext* call,
                       const ParsedRequest<v1::GenerateVideoRequest>& parsed);
};

}  // namespace videogen::service

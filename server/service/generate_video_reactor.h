// GenerateVideo: validates and submits the request (or attaches to the job
// with the same client_request_id), then streams accepted -> queued ->
// progress -> video_chunk... -> completed | failed. The call's deadline
// becomes the job's deadline. Cancelling the call cancels the job only when
// the request sets cancel_job_with_call.
//
// On the reactor thread only the cheap checks run: token, parsing, field
// validation and (without a client_request_id) the queue's capacity, so a
// full queue refuses with ResourceExhausted before any image is decoded. A
// request with an image or a last frame is then handed to the DecodePool,
// which decodes it and submits the job; the call is answered from there (a
// full pool: ResourceExhausted naming "image decoding"). A call cancelled
// while its images are decoded ends CANCELLED and submits no job.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/common/cancellation.h"
#include "server/service/job_event_stream_reactor.h"
#include "server/service/parsed_request.h"
#include "server/service/service_context.h"

namespace videogen::service {

class GenerateVideoReactor final : public JobEventStreamReactor {
 public:
  // `context` must outlive the call; `parsed` is the call's request (gRPC
  // keeps it until OnDone, so past the Finish a DecodePool task makes).
  GenerateVideoReactor(const ServiceContext& context, grpc::CallbackServerContext* call,
                       const ParsedRequest<v1::GenerateVideoRequest>& parsed);

 private:
  // Decodes the images, submits the job and attaches to it, or ends the call
  // with the error. Runs on the reactor thread (no images) or on a DecodePool
  // thread.
  void DecodeAndSubmit(const ServiceContext& context, const v1::GenerateVideoRequest& request, uint64_t seed,
                       std::optional<CancelToken::Clock::time_point> deadline);
};

}  // namespace videogen::service

// The one place where protobuf messages meet engine and job types.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"
#include "engine/pipeline/api/generator.h"
#include "server/jobs/job.h"
#include "server/service/request_limits.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::service {

// Builds the job for an already validated request (ValidateRequest): decodes
// the image within `limits`, maps the enums, uses `seed_if_absent` when the
// request has no seed. Errors: InvalidArgument("image: ...") for an image that
// does not decode; ResourceExhausted / Internal from the decoder.
absl::StatusOr<jobs::JobSpec> ToJobSpec(const v1::GenerateVideoRequest& request, const RequestLimits& limits,
                                        uint64_t seed_if_absent,
                                        std::optional<CancelToken::Clock::time_point> deadline);

// The spec also carries the request's fingerprint (RequestFingerprint) and
// the request with its seed as JobSpec::persisted_request.

// SHA-256 (hex) of the request's parameters: the deterministic serialization
// of every field except client_request_id and cancel_job_with_call (an
// absent seed stays absent). Equal requests, equal fingerprints.
std::string RequestFingerprint(const v1::GenerateVideoRequest& request);

// A jobs::SpecDecoder: the JobSpec of a JobSpec::persisted_request (decoding
// its images again within `limits`). DataLoss when it does not parse or has
// no seed; errors of ToJobSpec.
absl::StatusOr<jobs::JobSpec> FromPersistedRequest(const std::string& persisted, const RequestLimits& limits,
                                                   std::optional<CancelToken::Clock::time_point> deadline);

v1::Stage ToProto(pipeline::Stage stage);
v1::JobState ToProto(jobs::JobState state);
void ToProto(const jobs::JobProgress& progress, v1::Progress* out);
void ToProto(const jobs::JobResult& result, v1::Completed* out);
void ToProto(const absl::Status& status, v1::Failed* out);
void ToProto(const jobs::Job& job, v1::Job* out);
// The served model's state as ListModels reports it ("warming", "ready", "failed").
enum class ModelState {
  kWarming,  // some worker is still warming up
  kReady,    // every worker is warm
  kFailed,   // a worker could not warm up
};
void ToProto(const pipeline::ModelDescription& model, ModelState state, v1::Model* out);

// The longest status message sent to a client: far below gRPC's metadata
// limit, whatever a message quotes (client values are cut by logging::Echo).
inline constexpr size_t kMaxStatusMessageBytes = 2048;

// absl and gRPC status codes share their numbering; the message is cut to
// kMaxStatusMessageBytes (+ "...").
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace videogen::service

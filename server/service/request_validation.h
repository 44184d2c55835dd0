// The transport limits of a GenerateVideoRequest: required fields, field
// sizes and the service's configured caps (RequestLimits), enum values. Every
// bad field gives InvalidArgument whose message names the field and its
// limit. The model rules (4n+1 frames, multiples of 16, guidance, shift,
// steps >= 1) are the generator's (engine/pipeline/api/request_rules.h),
// checked at submit by the job manager. The image is only probed (header),
// never decoded, here.
#pragma once

#include "absl/status/status.h"
#include "server/service/request_limits.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::service {

// OK, or InvalidArgument("<field>: ... <allowed range>").
absl::Status ValidateRequest(const v1::GenerateVideoRequest& request, const RequestLimits& limits);

// An encoded input image (`image`, `last_frame`) checked from its header
// against `limits`: InvalidArgument("<field>: ...").
absl::Status CheckImageBytes(const char* field, const std::string& bytes, const RequestLimits& limits);

// `status` with a leading "image:" (the image decoder's field) replaced by `field`.
absl::Status RenameImageField(const absl::Status& status, const char* field);

}  // namespace videogen::service

// Checks of a GenerateVideoRequest that need no model: every bad field gives
// InvalidArgument whose message names the field and its allowed range. The
// image is only probed (header), never decoded, here.
#pragma once

#include "absl/status/status.h"
#include "server/service/request_limits.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::service {

// OK, or InvalidArgument("<field>: ... <allowed range>").
absl::Status ValidateRequest(const v1::GenerateVideoRequest& request, const RequestLimits& limits);

}  // namespace videogen::service

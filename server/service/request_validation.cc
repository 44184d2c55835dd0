#include "server/service/request_validation.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/media/image_decoder.h"

namespace videogen::service {

namespace {

absl::Status Invalid(const char* field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// A cap of the service on a numeric field (the model's own rules come later).
absl::Status CheckCap(const char* field, uint64_t value, uint64_t max) {
  if (value > max) return Invalid(field, absl::StrCat(value, " exceeds the limit of ", max));
  return absl::OkStatus();
}

}  // namespace

absl::Status RenameImageField(const absl::Status& status, const char* field) {
  constexpr absl::string_view kImage = "image:";
  if (status.ok() || !absl::StartsWith(status.message(), kImage)) return status;
  return absl::Status(status.code(), absl::StrCat(field, status.message().substr(kImage.size() - 1)));
}

absl::Status CheckImageBytes(const char* field, const std::string& bytes, const RequestLimits& limits) {
  if (bytes.size() > limits.max_image_bytes) {
    return Invalid(field, absl::StrCat(bytes.size(), " bytes exceeds the limit of ", limits.max_image_bytes));
  }
  auto info = media::ProbeImage(std::string_view(bytes.data(), bytes.size()));
  if (!info.ok()) return RenameImageField(info.status(), field);
  if (info->width > limits.max_image_width || info->height > limits.max_image_height ||
      static_cast<int64_t>(info->width) * info->height > limits.max_image_pixels) {
    return Invalid(field, absl::StrCat(info->width, "x", info->height, " exceeds the limit of ", limits.max_image_width,
                                       "x", limits.max_image_height, " and ", limits.max_image_pixels, " pixels"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::GenerateVideoRequest& r, const RequestLimits& limits) {
  if (r.model().empty()) return Invalid("model", "required (an id from ListModels)");
  if (r.prompt().empty()) return Invalid("prompt", "required");
  if (r.prompt().size() > limits.max_prompt_bytes) {
    return Invalid("prompt", absl::StrCat(r.prompt().size(), " bytes exceeds the limit of ", limits.max_prompt_bytes));
  }
  if (r.has_negative_prompt() && r.negative_prompt().size() > limits.max_prompt_bytes) {
    return Invalid("negative_prompt",
                   absl::StrCat(r.negative_prompt().size(), " bytes exceeds the limit of ", limits.max_prompt_bytes));
  }
  if (r.has_width()) RETURN_IF_ERROR(CheckCap("width", r.width(), limits.max_width));
  if (r.has_height()) RETURN_IF_ERROR(CheckCap("height", r.height(), limits.max_height));
  const uint64_t max_area = static_cast<uint64_t>(limits.max_width) * static_cast<uint64_t>(limits.max_height);
  if (r.has_max_area()) RETURN_IF_ERROR(CheckCap("max_area", r.max_area(), max_area));
  if (r.has_num_frames()) RETURN_IF_ERROR(CheckCap("num_frames", r.num_frames(), limits.max_frames));
  if (r.has_steps()) RETURN_IF_ERROR(CheckCap("steps", r.steps(), limits.max_steps));
  RETURN_IF_ERROR(CheckCap("timesteps", r.timesteps_size(), limits.max_steps));
  RETURN_IF_ERROR(CheckCap("adapters", r.adapters_size(), limits.max_adapters));
  for (const v1::AdapterUse& a : r.adapters()) {
    if (a.name().size() > limits.max_adapter_name_bytes) {
      return Invalid("adapters", absl::StrCat("a name of ", a.name().size(), " bytes exceeds the limit of ",
                                              limits.max_adapter_name_bytes));
    }
  }
  // The fps of the encoded video: the service's, not the model's.
  if (r.has_fps() && !(std::isfinite(r.fps()) && r.fps() > 0 && r.fps() <= limits.max_fps)) {
    return Invalid("fps", absl::StrCat(r.fps(), " is outside (0, ", limits.max_fps, "]"));
  }
  if (!v1::Sampler_IsValid(r.sampler())) {
    return Invalid("sampler", absl::StrCat(r.sampler(), " is not one of UNIPC, DPMPP, EULER, STEP_DISTILL"));
  }
  if (!v1::VideoFormat_IsValid(r.format())) {
    return Invalid("format", absl::StrCat(r.format(), " is not one of MP4_H264, WEBM_VP9"));
  }
  if (r.has_quality() && r.quality() > 100) {
    return Invalid("quality", absl::StrCat(r.quality(), " is outside [0, 100]"));
  }
  if (r.priority() < -limits.max_priority || r.priority() > limits.max_priority) {
    return Invalid("priority",
                   absl::StrCat(r.priority(), " is outside [", -limits.max_priority, ", ", limits.max_priority, "]"));
  }
  if (r.client_request_id().size() > limits.max_client_request_id_bytes) {
    return Invalid("client_request_id", absl::StrCat(r.client_request_id().size(), " bytes exceeds the limit of ",
                                                     limits.max_client_request_id_bytes));
  }
  if (!r.image().empty()) RETURN_IF_ERROR(CheckImageBytes("image", r.image(), limits));
  if (!r.last_frame().empty()) RETURN_IF_ERROR(CheckImageBytes("last_frame", r.last_frame(), limits));
  return absl::OkStatus();
}

}  // namespace videogen::service

#include "server/service/request_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/media/image_decoder.h"

namespace videogen::service {

namespace {

absl::Status Invalid(const char* field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckSize(const char* field, uint32_t value, int max) {
  if (value < 16 || value > static_cast<uint32_t>(max) || value % 16 != 0) {
    return Invalid(field, absl::StrCat(value, " is not a multiple of 16 in [16, ", max, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

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
  if (r.has_width()) {
    if (absl::Status s = CheckSize("width", r.width(), limits.max_width); !s.ok()) return s;
  }
  if (r.has_height()) {
    if (absl::Status s = CheckSize("height", r.height(), limits.max_height); !s.ok()) return s;
  }
  const uint64_t max_area = static_cast<uint64_t>(limits.max_width) * static_cast<uint64_t>(limits.max_height);
  if (r.has_max_area() && (r.max_area() < 256 || r.max_area() > max_area)) {
    return Invalid("max_area", absl::StrCat(r.max_area(), " is outside [256, ", max_area, "]"));
  }
  if (r.has_num_frames() && (r.num_frames() < 1 || r.num_frames() > static_cast<uint32_t>(limits.max_frames) ||
                             (r.num_frames() - 1) % 4 != 0)) {
    return Invalid("num_frames", absl::StrCat(r.num_frames(), " is not 4n+1 in [1, ", limits.max_frames, "]"));
  }
  if (r.has_fps() && !(std::isfinite(r.fps()) && r.fps() > 0 && r.fps() <= limits.max_fps)) {
    return Invalid("fps", absl::StrCat(r.fps(), " is outside (0, ", limits.max_fps, "]"));
  }
  if (r.has_steps() && (r.steps() < 1 || r.steps() > static_cast<uint32_t>(limits.max_steps))) {
    return Invalid("steps", absl::StrCat(r.steps(), " is outside [1, ", limits.max_steps, "]"));
  }
  if (r.has_guidance_scale() && !(std::isfinite(r.guidance_scale()) && r.guidance_scale() >= 0)) {
    return Invalid("guidance_scale", absl::StrCat(r.guidance_scale(), " must be a finite number >= 0"));
  }
  if (r.has_shift() && !(std::isfinite(r.shift()) && r.shift() > 0)) {
    return Invalid("shift", absl::StrCat(r.shift(), " must be a finite number > 0"));
  }
  if (!v1::Sampler_IsValid(r.sampler())) {
    return Invalid("sampler", absl::StrCat(r.sampler(), " is not one of UNIPC, DPMPP, EULER"));
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
  if (!r.image().empty()) {
    if (r.image().size() > limits.max_image_bytes) {
      return Invalid("image", absl::StrCat(r.image().size(), " bytes exceeds the limit of ", limits.max_image_bytes));
    }
    auto info = media::ProbeImage(std::string_view(r.image().data(), r.image().size()));
    if (!info.ok()) return info.status();  // InvalidArgument("image: ...")
    if (info->width > limits.max_image_width || info->height > limits.max_image_height ||
        static_cast<int64_t>(info->width) * info->height > limits.max_image_pixels) {
      return Invalid("image",
                     absl::StrCat(info->width, "x", info->height, " exceeds the limit of ", limits.max_image_width, "x",
                                  limits.max_image_height, " and ", limits.max_image_pixels, " pixels"));
    }
  }
  return absl::OkStatus();
}

}  // namespace videogen::service

#include "engine/pipeline/api/request_rules.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace videogen::pipeline {
namespace {

absl::Status Invalid(const char* field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckPixels(const char* field, const RgbImage& img) {
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3) {
    return Invalid(field, "pixel buffer does not match its size");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSteps(int64_t steps) {
  if (steps < 1) return Invalid("steps", absl::StrCat(steps, " must be >= 1"));
  return absl::OkStatus();
}

absl::Status CheckGuidanceScale(double g) {
  if (!std::isfinite(g) || g < 0 || g > kMaxGuidanceScale) {
    return Invalid("guidance_scale", absl::StrCat(g, " must be a finite number in [0, ", kMaxGuidanceScale, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckShift(double shift) {
  if (!std::isfinite(shift) || shift <= 0 || shift > kMaxShift) {
    return Invalid("shift", absl::StrCat(shift, " must be a finite number > 0 and <= ", kMaxShift));
  }
  return absl::OkStatus();
}

absl::Status CheckNumFrames(int64_t n) {
  if (n < 1 || (n - 1) % 4 != 0) return Invalid("num_frames", absl::StrCat(n, " is not 4n+1 (1, 5, 9, ...)"));
  return absl::OkStatus();
}

absl::Status CheckSize(const char* field, int64_t pixels) {
  if (pixels < kSizeMultiple || pixels % kSizeMultiple != 0) {
    return Invalid(field, absl::StrCat(pixels, " is not a positive multiple of ", kSizeMultiple));
  }
  return absl::OkStatus();
}

absl::Status CheckMaxArea(int64_t max_area) {
  if (max_area < kMinMaxArea) return Invalid("max_area", absl::StrCat(max_area, " is below ", kMinMaxArea));
  return absl::OkStatus();
}

absl::Status CheckAdapters(const std::vector<AdapterUse>& adapters) {
  for (size_t i = 0; i < adapters.size(); ++i) {
    const AdapterUse& a = adapters[i];
    if (a.name.empty()) return Invalid("adapters", absl::StrCat("entry ", i, " has no name"));
    if (!std::isfinite(a.strength) || std::fabs(a.strength) > kMaxAdapterStrength) {
      return Invalid("adapters", absl::StrCat("strength ", a.strength, " of '", a.name, "' is outside [-",
                                              kMaxAdapterStrength, ", ", kMaxAdapterStrength, "]"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (adapters[j].name == a.name) return Invalid("adapters", absl::StrCat("'", a.name, "' is given twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTimesteps(const std::vector<int>& timesteps) {
  for (size_t i = 0; i < timesteps.size(); ++i) {
    const int t = timesteps[i];
    if (t < 1 || t > kNumTrainTimesteps || (i > 0 && t >= timesteps[i - 1])) {
      return Invalid("timesteps", absl::StrCat(t, " at position ", i, ": the list must decrease strictly within [1, ",
                                               kNumTrainTimesteps, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRequestRules(const GenerationRequest& r, ModelType type) {
  if (type == ModelType::kT2V && r.image.has_value()) return Invalid("image", "not accepted by a t2v model");
  if (type != ModelType::kT2V && type != ModelType::kTI2V && !r.image.has_value()) {
    return Invalid("image", absl::StrCat("required by an ", ModelTypeName(type), " model"));
  }
  if (type == ModelType::kFLF2V && !r.last_image.has_value()) {
    return Invalid("last_frame", "required by an flf2v model");
  }
  if (type != ModelType::kFLF2V && r.last_image.has_value()) {
    return Invalid("last_frame", absl::StrCat("not accepted by a ", ModelTypeName(type), " model"));
  }
  if (r.image.has_value()) RETURN_IF_ERROR(CheckPixels("image", *r.image));
  if (r.last_image.has_value()) RETURN_IF_ERROR(CheckPixels("last_frame", *r.last_image));
  if (type == ModelType::kFLF2V && r.num_frames && *r.num_frames != kFirstLastFrameNumFrames) {
    return Invalid("num_frames", absl::StrCat(*r.num_frames, ": an flf2v model takes exactly ",
                                              kFirstLastFrameNumFrames, " frames"));
  }
  if (r.width) RETURN_IF_ERROR(CheckSize("width", *r.width));
  if (r.height) RETURN_IF_ERROR(CheckSize("height", *r.height));
  if (r.max_area) RETURN_IF_ERROR(CheckMaxArea(*r.max_area));
  if (r.num_frames) RETURN_IF_ERROR(CheckNumFrames(*r.num_frames));
  if (r.steps) RETURN_IF_ERROR(CheckSteps(*r.steps));
  if (r.guidance_scale) RETURN_IF_ERROR(CheckGuidanceScale(*r.guidance_scale));
  if (r.shift) RETURN_IF_ERROR(CheckShift(*r.shift));
  RETURN_IF_ERROR(CheckAdapters(r.adapters));
  if (!r.timesteps.empty()) {
    RETURN_IF_ERROR(CheckTimesteps(r.timesteps));
    if (r.sampler && *r.sampler != Sampler::kStepDistill) {
      return Invalid("timesteps", "an explicit timestep list needs the step-distill sampler");
    }
    if (r.steps && static_cast<size_t>(*r.steps) != r.timesteps.size()) {
      return Invalid("steps", absl::StrCat(*r.steps, " differs from the ", r.timesteps.size(), " timesteps given"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDefaults(const GenerationDefaults& d) {
  absl::Status s = CheckSize("width", d.width);
  if (s.ok()) s = CheckSize("height", d.height);
  if (s.ok()) s = CheckMaxArea(d.max_area);
  if (s.ok()) s = CheckNumFrames(d.num_frames);
  if (s.ok()) s = CheckSteps(d.steps);
  if (s.ok()) s = CheckGuidanceScale(d.guidance_scale);
  if (s.ok()) s = CheckShift(d.shift);
  if (s.ok()) s = CheckTimesteps(d.timesteps);
  if (s.ok() && !(d.fps > 0)) s = Invalid("fps", absl::StrCat(d.fps, " must be > 0"));
  if (s.ok() && d.guidance_scale_high_noise) s = CheckGuidanceScale(*d.guidance_scale_high_noise);
  if (s.ok() && !(d.expert_boundary >= 0 && d.expert_boundary <= 1)) {
    s = Invalid("expert_boundary", absl::StrCat(d.expert_boundary, " is outside [0, 1]"));
  }
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat("defaults.", s.message()));
}

}  // namespace videogen::pipeline

#include "engine/pipeline/request_admission.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"

namespace videogen::pipeline {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// The largest side and frame count a request may ask for (the service's default caps).
constexpr int64_t kMaxSide = 1280;
constexpr int64_t kMaxFrames = 129;

// "31.20 GiB of GPU memory, 22.10 GiB available" for the budget the plan misses
// by the most (GPU first), or "" when it fits.
std::string Shortfall(const memory::Plan& p) {
  const memory::Budgets& b = p.budgets;
  if (b.gpu_bytes != 0 && p.peak_vram > b.gpu_bytes) {
    return absl::StrFormat("%.2f GiB of GPU memory, %.2f GiB available", p.peak_vram / kGiB, b.gpu_bytes / kGiB);
  }
  if (p.peak_host > b.host_bytes) {
    return absl::StrFormat("%.2f GiB of host memory, %.2f GiB available", p.peak_host / kGiB, b.host_bytes / kGiB);
  }
  return "";
}

}  // namespace

bool RunsCfg(const GenerationRequest& r, const GenerationDefaults& d) {
  if (r.guidance_scale) return *r.guidance_scale != 1.0;
  return d.guidance_scale != 1.0 || d.guidance_scale_high_noise.value_or(1.0) != 1.0;
}

RequestAdmission::RequestAdmission(memory::ModelHeaders headers, memory::Plan plan)
    : headers_(std::move(headers)), plan_(std::move(plan)) {}

absl::StatusOr<memory::Plan> RequestAdmission::Evaluate(int64_t frames, int64_t height, int64_t width,
                                                        bool cfg) const {
  memory::RequestShape shape;
  shape.frames = frames;
  shape.height = height;
  shape.width = width;
  shape.cfg = cfg;
  return memory::EvaluateRequest(headers_, plan_, shape);
}

absl::Status RequestAdmission::Admit(const LatentGeometry& g, bool cfg, const char* size_field) const {
  const int64_t h = g.height(), w = g.width();
  ASSIGN_OR_RETURN(const memory::Plan plan, Evaluate(g.frames, h, w, cfg));
  if (memory::Fits(plan)) return absl::OkStatus();
  const std::string need = Shortfall(plan);
  for (int64_t frames = g.frames - 4; frames >= 1; frames -= 4) {
    ASSIGN_OR_RETURN(const memory::Plan shorter, Evaluate(frames, h, w, cfg));
    if (memory::Fits(shorter)) {
      return absl::InvalidArgumentError(absl::StrFormat("num_frames: %d frames at %dx%d need %s; at most %d frames "
                                                        "at this size",
                                                        g.frames, w, h, need, frames));
    }
  }
  ASSIGN_OR_RETURN(const memory::Plan one, Evaluate(1, h, w, cfg));
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %dx%d needs %s even at 1 frame", size_field, w, h, Shortfall(one)));
}

AdmissionLimits RequestAdmission::Limits(const GenerationDefaults& d) const {
  AdmissionLimits limits;
  const bool cfg = RunsCfg(GenerationRequest{}, d);
  for (int64_t frames = 1; frames <= kMaxFrames; frames += 4) {
    auto plan = Evaluate(frames, d.height, d.width, cfg);
    if (!plan.ok() || !memory::Fits(*plan)) break;
    limits.max_frames = static_cast<int>(frames);
  }
  // Sizes at the default aspect, largest first, rounded to multiples of 16.
  for (int eighths = 16; eighths >= 1; --eighths) {
    const double s = eighths / 8.0;
    const int64_t w = std::min<int64_t>(kMaxSide, std::max<int64_t>(16, std::llround(d.width * s / 16.0) * 16));
    const int64_t h = std::min<int64_t>(kMaxSide, std::max<int64_t>(16, std::llround(d.height * s / 16.0) * 16));
    auto plan = Evaluate(d.num_frames, h, w, cfg);
    if (plan.ok() && memory::Fits(*plan)) {
      limits.max_area = w * h;
      break;
    }
  }
  return limits;
}

}  // namespace videogen::pipeline

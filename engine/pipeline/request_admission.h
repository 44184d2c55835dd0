// Per-request admission: the memory plan is made for the model's default
// request, but a request may ask for more frames or a larger size. Before a
// request is accepted, the loaded model's plan (its placement, offload mode and
// tiling, against the budgets it was planned with) is evaluated for the
// request's own shape -- DiT tokens, CFG, VAE decode -- and a request that
// would not fit is refused with the field, the need and the limit, instead of
// failing with out-of-memory minutes later.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/conditioning.h"

namespace videogen::pipeline {

// Whether a request (its guidance_scale, else the defaults: both scales of an
// expert pair) runs the unconditional DiT pass, i.e. some scale is not 1.
bool RunsCfg(const GenerationRequest& request, const GenerationDefaults& defaults);

// Thread-safe (const after construction; pure arithmetic over the headers).
class RequestAdmission {
 public:
  // `headers`: the model's components as planned; `plan`: the plan it was loaded with.
  RequestAdmission(memory::ModelHeaders headers, memory::Plan plan);

  // OK when a request of this geometry (with CFG: two DiT passes per step)
  // fits the plan's budgets. Else InvalidArgument naming `num_frames` with the
  // need, the budget and the most frames that fit at this size ("num_frames:
  // 129 frames at 1280x720 need 31.2 GiB of GPU memory, 22.1 GiB available; at
  // most 81 frames at this size"), or -- when not even one frame fits -- naming
  // `size_field` (width, or max_area for image-conditioned models).
  absl::Status Admit(const LatentGeometry& geometry, bool cfg, const char* size_field) const;

  // The largest requests admitted around the defaults: the most frames at the
  // default size, and the largest area (at the default aspect, each side at
  // most 1280) at the default frame count. Zero when none.
  AdmissionLimits Limits(const GenerationDefaults& defaults) const;

 private:
  absl::StatusOr<memory::Plan> Evaluate(int64_t frames, int64_t height, int64_t width, bool cfg) const;

  const memory::ModelHeaders headers_;
  const memory::Plan plan_;
};

}  // namespace videogen::pipeline

// The model rules of a GenerationRequest, owned here and applied by every
// generator's Validate(); the service checks only transport limits (field
// sizes, its configured caps: server/service/request_validation.h). No
// LibTorch: safe to call on RPC threads.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

inline constexpr double kMaxGuidanceScale = 50.0;
inline constexpr double kMaxShift = 100.0;
// Output sizes are multiples of the VAE stride times the DiT patch (8 x 2).
inline constexpr int64_t kSizeMultiple = 16;
// flf2v models take exactly this many frames (the official mask is built for 81).
inline constexpr int64_t kFirstLastFrameNumFrames = 81;
// The smallest i2v output area: one 16x16 patch.
inline constexpr int64_t kMinMaxArea = 256;
// Timesteps of the training schedule (explicit timestep lists are within it).
inline constexpr int kNumTrainTimesteps = 1000;

// Each returns OK or InvalidArgument("<field>: <value> <allowed range>").
absl::Status CheckSteps(int64_t steps);                         // steps >= 1
absl::Status CheckGuidanceScale(double guidance_scale);         // finite, in [0, 50]
absl::Status CheckShift(double shift);                          // finite, in (0, 100]
absl::Status CheckNumFrames(int64_t num_frames);                // 4n + 1, n >= 0
absl::Status CheckSize(const char* field, int64_t pixels);      // a positive multiple of 16
absl::Status CheckMaxArea(int64_t max_area);                    // >= 256
// Adapter strengths are finite in [-10, 10].
inline constexpr double kMaxAdapterStrength = 10.0;
// Names non-empty and distinct, strengths within the bound.
absl::Status CheckAdapters(const std::vector<AdapterUse>& adapters);
// Strictly decreasing in [1, 1000] (empty is fine).
absl::Status CheckTimesteps(const std::vector<int>& timesteps);

// The rules above for every field that is set, the image (required by
// image-conditioned models (`type` kI2V, kFLF2V), optional for kTI2V,
// rejected by t2v models, its pixel
// buffer matching its size), the last frame (required by flf2v models,
// rejected by the others; flf2v also needs num_frames 81), and an explicit timestep list: only with the
// step-distill sampler (or none), `steps` (if set) equal to its count.
absl::Status CheckRequestRules(const GenerationRequest& request, ModelType type);

// The same rules for a model's defaults (e.g. from videogen.json):
// InvalidArgument("defaults.<field>: ...").
absl::Status CheckDefaults(const GenerationDefaults& defaults);

}  // namespace videogen::pipeline

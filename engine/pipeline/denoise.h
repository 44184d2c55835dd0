// The classifier-free-guidance denoising loop shared by the text-to-video and
// image-to-video pipelines (the `for t in timesteps` loop of generate()).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"
#include "engine/pipeline/api/generator.h"  // Expert
#include "engine/schedulers/scheduler.h"

namespace videogen::pipeline {

// Wan2.2 A14B: steps whose timestep t satisfies t >= boundary_timestep run
// the high-noise expert with `guidance_scale_high_noise`; the others the
// low-noise expert with DenoiseOptions::guidance_scale (the official
// guide_scale pair is (low, high)). The switch happens once: timesteps decrease.
struct ExpertSwitch {
  double boundary_timestep = 875.0;  // boundary * num_train_timesteps
  double guidance_scale_high_noise = 5.0;
};

struct DenoiseOptions {
  schedulers::SamplerKind sampler = schedulers::SamplerKind::kUniPC;
  int steps = 50;               // >= 1
  double shift = 5.0;           // > 0
  double guidance_scale = 5.0;  // finite, >= 0; exactly 1: one conditional DiT pass per step
  // Step-distill sampler: the explicit timesteps (steps == their count); empty
  // for the other samplers.
  std::vector<int> timesteps;
  // Set for models with a high/low-noise expert pair.
  std::optional<ExpertSwitch> experts;
};


// Per-step tensors of one run (what the pipeline fixtures record).
struct DenoiseTrace {
  torch::Tensor timesteps;                  // [S]
  std::vector<torch::Tensor> latents;       // S + 1 entries, the DiT input of each step then the result
  std::vector<torch::Tensor> noise_pred_cond;
  std::vector<torch::Tensor> noise_pred_uncond;  // empty when g == 1
  std::vector<torch::Tensor> noise_pred;         // the CFG result given to the scheduler
  std::vector<Expert> experts;                   // per step
};

// The flow prediction for one latent [C, T, h, w] at timestep `t` (a [1]
// tensor, the scheduler's dtype), with the prompt (`conditional`) or the
// negative-prompt context, by `expert`.
using FlowModelFn = std::function<absl::StatusOr<torch::Tensor>(const torch::Tensor& latent, const torch::Tensor& t,
                                                                bool conditional, Expert expert)>;
// Called after each step with (steps done, total steps, the step's expert).
using StepFn = std::function<void(int done, int total, Expert expert)>;
// Optional: maps the initial latent and every step's result to the latent the
// next step sees (TI2V re-imposes the image latent on frame 0).
using LatentConstraintFn = std::function<torch::Tensor(const torch::Tensor& latent)>;

// Runs S steps from `noise`: noise_pred = uncond + g * (cond - uncond) (with
// g == 1 only the conditional pass runs: noise_pred = cond, as the few-step
// distilled models are served); latent = scheduler.step(noise_pred[None], t,
// latent[None])[0]. With `experts`, each step's expert and guidance scale
// follow ExpertSwitch. Returns the final latent.
// The cancel token is checked before every step (Cancelled / DeadlineExceeded).
// InvalidArgument naming `steps`, `shift` or `guidance_scale`.
absl::StatusOr<torch::Tensor> Denoise(const torch::Tensor& noise, const DenoiseOptions& options,
                                      const FlowModelFn& model, const StepFn& on_step,
                                      const CancelToken* cancel, DenoiseTrace* trace = nullptr,
                                      const LatentConstraintFn& constrain = nullptr);

}  // namespace videogen::pipeline

#include "engine/pipeline/denoise.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/pipeline/api/request_rules.h"

namespace videogen::pipeline {

absl::StatusOr<torch::Tensor> Denoise(const torch::Tensor& noise, const DenoiseOptions& options,
                                      const FlowModelFn& model, const StepFn& on_step,
                                      const CancelToken* cancel, DenoiseTrace* trace,
                                      const LatentConstraintFn& constrain) {
  RETURN_IF_ERROR(CheckGuidanceScale(options.guidance_scale));
  schedulers::SchedulerOptions scheduler_options;
  scheduler_options.timestep_list = options.timesteps;
  ASSIGN_OR_RETURN(auto scheduler, schedulers::FlowScheduler::Create(options.sampler, scheduler_options));
  RETURN_IF_ERROR(scheduler->SetTimesteps(options.steps, options.shift));
  const torch::Tensor timesteps = scheduler->timesteps();
  const int total = scheduler->num_steps();
  if (trace != nullptr) trace->timesteps = timesteps;

  if (options.experts) RETURN_IF_ERROR(CheckGuidanceScale(options.experts->guidance_scale_high_noise));
  torch::Tensor latent = constrain ? constrain(noise) : noise;
  for (int i = 0; i < total; ++i) {
    RETURN_IF_ERROR(CheckCancel(cancel, "denoising"));
    if (trace != nullptr) trace->latents.push_back(latent);
    const torch::Tensor t = timesteps.slice(0, i, i + 1);
    Expert expert = Expert::kSingle;
    double guidance = options.guidance_scale;
    if (options.experts) {
      const bool high = t.item<double>() >= options.experts->boundary_timestep;
      expert = high ? Expert::kHighNoise : Expert::kLowNoise;
      if (high) guidance = options.experts->guidance_scale_high_noise;
    }
    // Guidance 1 is the conditional prediction itself: skip the unconditional pass.
    const bool single_pass = guidance == 1.0;
    ASSIGN_OR_RETURN(torch::Tensor cond, model(latent, t, /*conditional=*/true, expert));
    torch::Tensor uncond, pred = cond;
    if (!single_pass) {
      ASSIGN_OR_RETURN(uncond, model(latent, t, /*conditional=*/false, expert));
      ASSIGN_OR_RETURN(pred, TorchCall("classifier-free guidance", [&] { return uncond + guidance * (cond - uncond); }));
    }
    ASSIGN_OR_RETURN(torch::Tensor next, scheduler->Step(pred.unsqueeze(0), i, latent.unsqueeze(0)));
    latent = next.squeeze(0);
    if (constrain) latent = constrain(latent);
    if (trace != nullptr) {
      trace->noise_pred_cond.push_back(cond);
      if (!single_pass) trace->noise_pred_uncond.push_back(uncond);
      trace->noise_pred.push_back(pred);
      trace->experts.push_back(expert);
    }
    if (on_step) on_step(i + 1, total, expert);
  }
  if (trace != nullptr) trace->latents.push_back(latent);
  return latent;
}

}  // namespace videogen::pipeline

// The few-step sampler of the step-distilled Wan models and LoRAs (LightX2V's
// WanStepDistillScheduler, lightx2v/models/schedulers/wan/step_distill): the
// 1000-point training grid sigma_j = 1 - j/1000 (float32 linspace), shifted
// as shift*s / (1 + (shift - 1)*s), sampled at an explicit list of timesteps
// (index 1000 - t; default for S steps: 1000, 1000 - 1000//S, ..., as
// LightX2V derives it from infer_steps: [1000, 750, 500, 250] for 4). The
// DiT gets t = sigma * 1000 (float32); each step is x <- (x - sigma_i v) +
// sigma_{i+1} v, the last one x - sigma_i v (the x0 prediction). Stateless
// between steps. Internal to engine/schedulers: use FlowScheduler::Create.
#pragma once

#include <vector>

#include "engine/schedulers/scheduler.h"

namespace videogen::schedulers {

class StepDistillScheduler final : public FlowScheduler {
 public:
  explicit StepDistillScheduler(const SchedulerOptions& options)
      : FlowScheduler(SamplerKind::kStepDistill, options) {}

  // LightX2V's default list for `num_steps` steps: 1000 - i*(1000 // S), i < S.
  static std::vector<int> DefaultTimestepList(int num_steps, int num_train_timesteps);

 private:
  Schedule ComputeSchedule(int num_steps, double shift) const override;
  void ResetState() override {}
  bool IsMultistep() const override { return false; }
  torch::Tensor DoStep(const torch::Tensor& model_output, int step_index,
                       const torch::Tensor& sample) override;
};

}  // namespace videogen::schedulers

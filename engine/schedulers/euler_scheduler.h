// Plain flow-matching Euler: DiffSynth-Studio's FlowMatchScheduler(template='Wan')
// (diffsynth/diffusion/flow_match.py). The official Wan2.1 code has no Euler
// sampler. Stateless between steps. Internal to engine/schedulers: use
// FlowScheduler::Create.
#pragma once

#include "engine/schedulers/scheduler.h"

namespace videogen::schedulers {

class EulerScheduler final : public FlowScheduler {
 public:
  explicit EulerScheduler(const SchedulerOptions& options) : FlowScheduler(SamplerKind::kEuler, options) {}

 private:
  Schedule ComputeSchedule(int num_steps, double shift) const override;
  void ResetState() override {}
  bool IsMultistep() const override { return false; }
  torch::Tensor DoStep(const torch::Tensor& model_output, int step_index,
                       const torch::Tensor& sample) override;
};

}  // namespace videogen::schedulers

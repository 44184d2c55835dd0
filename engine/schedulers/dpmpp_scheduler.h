// FlowDPMSolverMultistepScheduler of wan/utils/fm_solvers.py as
// generate(sample_solver='dpm++') uses it: dpmsolver++ with the midpoint
// second-order update, flow prediction (x0 = sample - sigma * v), final sigma
// 0, and the schedule of get_sampling_sigmas (starting at sigma 1, so the
// first lambda is -inf and IEEE arithmetic makes the first two updates
// effectively first order, exactly as in the reference).
// Internal to engine/schedulers: use FlowScheduler::Create.
#pragma once

#include <vector>

#include "engine/schedulers/scheduler.h"

namespace videogen::schedulers {

class DpmPPScheduler final : public FlowScheduler {
 public:
  explicit DpmPPScheduler(const SchedulerOptions& options);

 private:
  Schedule ComputeSchedule(int num_steps, double shift) const override;
  void ResetState() override;
  bool IsMultistep() const override { return true; }
  torch::Tensor DoStep(const torch::Tensor& model_output, int step_index,
                       const torch::Tensor& sample) override;

  // Multistep state, reset by SetTimesteps.
  std::vector<torch::Tensor> model_outputs_;  // converted (x0) outputs, oldest first, size solver_order
  int lower_order_nums_ = 0;
};

}  // namespace videogen::schedulers

// FlowUniPCMultistepScheduler of wan/utils/fm_solvers_unipc.py as Wan uses it:
// bh2, predict_x0 with flow prediction (x0 = sample - sigma * v), UniP
// predictor of order solver_order with warm-up, UniC corrector from the second
// step on, final sigma 0. Internal to engine/schedulers: use FlowScheduler::Create.
#pragma once

#include <vector>

#include "engine/schedulers/scheduler.h"

namespace videogen::schedulers {

class UniPCScheduler final : public FlowScheduler {
 public:
  explicit UniPCScheduler(const SchedulerOptions& options);

 private:
  Schedule ComputeSchedule(int num_steps, double shift) const override;
  void ResetState() override;
  bool IsMultistep() const override { return true; }
  torch::Tensor DoStep(const torch::Tensor& model_output, int step_index,
                       const torch::Tensor& sample) override;

  // UniP: the sample at sigmas[k + 1] from `sample` at sigmas[k], using the
  // converted outputs `outputs` (newest last) and order `order`.
  torch::Tensor Predict(const std::vector<torch::Tensor>& outputs, int k, const torch::Tensor& sample,
                        int order) const;
  // UniC: corrects `this_sample` (at sigmas[k]) given `last_sample` (at
  // sigmas[k - 1]), the stored outputs and the new converted output.
  torch::Tensor Correct(const torch::Tensor& this_output, int k, const torch::Tensor& last_sample,
                        const torch::Tensor& this_sample, int order) const;

  // Multistep state, reset by SetTimesteps.
  std::vector<torch::Tensor> model_outputs_;  // converted (x0) outputs, oldest first, size solver_order
  torch::Tensor last_sample_;                 // sample the last predictor started from
  int lower_order_nums_ = 0;
  int this_order_ = 0;                        // order of the last predictor step
};

}  // namespace videogen::schedulers

#include "engine/schedulers/step_distill_scheduler.h"

#include <ATen/ATen.h>

namespace videogen::schedulers {

std::vector<int> StepDistillScheduler::DefaultTimestepList(int num_steps, int num_train_timesteps) {
  std::vector<int> list;
  const int stride = num_steps > 0 ? num_train_timesteps / num_steps : 0;
  for (int i = 0; i < num_steps; ++i) list.push_back(num_train_timesteps - i * stride);
  return list;
}

FlowScheduler::Schedule StepDistillScheduler::ComputeSchedule(int num_steps, double shift) const {
  const int n = options().num_train_timesteps;
  const std::vector<int> list =
      options().timestep_list.empty() ? DefaultTimestepList(num_steps, n) : options().timestep_list;
  // float32 as torch.linspace(1.0, 0.0, n + 1)[:-1] and the Python-float shift.
  torch::Tensor grid = at::linspace(1.0, 0.0, n + 1, at::kFloat).slice(0, 0, n);
  grid = shift * grid / (1 + (shift - 1) * grid);
  std::vector<int64_t> index;
  for (int t : list) index.push_back(n - t);
  const torch::Tensor rows = at::tensor(index, at::kLong);
  Schedule schedule;
  schedule.sigmas = grid.index_select(0, rows).contiguous();
  schedule.timesteps = (schedule.sigmas * n).contiguous();
  return schedule;
}

torch::Tensor StepDistillScheduler::DoStep(const torch::Tensor& model_output, int step_index,
                                           const torch::Tensor& sample) {
  const torch::Tensor flow = model_output.to(at::kFloat);
  const double sigma = sigmas()[step_index].item<double>();
  torch::Tensor x = sample.to(at::kFloat) - sigma * flow;
  if (step_index + 1 < num_steps()) x = x + flow * sigmas()[step_index + 1].item<double>();
  return x.to(sample.scalar_type());
}

}  // namespace videogen::schedulers

#include "engine/schedulers/euler_scheduler.h"

#include <ATen/ATen.h>

// float32 torch arithmetic throughout, as set_timesteps_wan / step do.

namespace videogen::schedulers {

FlowScheduler::Schedule EulerScheduler::ComputeSchedule(int num_steps, double shift) const {
  // sigma_start = sigma_min + (sigma_max - sigma_min) * denoising_strength with
  // sigma_min = 0, sigma_max = 1 (Python floats).
  const double sigma_start = 0.0 + (1.0 - 0.0) * options().denoising_strength;
  torch::Tensor sigmas = at::linspace(sigma_start, 0.0, num_steps + 1, at::kFloat).slice(0, 0, num_steps);
  sigmas = (sigmas * shift) / ((sigmas * (shift - 1.0)) + 1);
  Schedule schedule;
  schedule.timesteps = sigmas * options().num_train_timesteps;
  schedule.sigmas = sigmas.contiguous();
  return schedule;
}

torch::Tensor EulerScheduler::DoStep(const torch::Tensor& model_output, int step_index,
                                     const torch::Tensor& sample) {
  // The reference looks the index up from the timestep value the pipeline
  // passes (timesteps[step_index]): argmin |timesteps - t|, the first match.
  const torch::Tensor& timesteps = this->timesteps();
  const int64_t id = at::argmin((timesteps - timesteps[step_index]).abs()).item<int64_t>();
  const torch::Tensor sigma = sigmas()[id];
  const torch::Tensor delta = id + 1 >= num_steps() ? 0 - sigma : sigmas()[id + 1] - sigma;
  return sample + model_output * delta;
}

}  // namespace videogen::schedulers

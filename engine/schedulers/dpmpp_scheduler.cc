#include "engine/schedulers/dpmpp_scheduler.h"

#include <ATen/ATen.h>

#include "engine/schedulers/flow_schedule.h"

// The arithmetic mirrors the reference operation by operation with float32 0-d
// tensors. The reference's step() consumes its `generator` only for the SDE
// variants (sde-dpmsolver++), which Wan does not use.

namespace videogen::schedulers {
namespace {

torch::Tensor Lambda(const torch::Tensor& sigma) { return at::log(1 - sigma) - at::log(sigma); }

}  // namespace

DpmPPScheduler::DpmPPScheduler(const SchedulerOptions& options) : FlowScheduler(SamplerKind::kDpmPP, options) {
  ResetState();
}

FlowScheduler::Schedule DpmPPScheduler::ComputeSchedule(int num_steps, double shift) const {
  // get_sampling_sigmas(steps, shift): shifted linspace(1, 0, steps + 1)[:steps].
  std::vector<double> s = NumpyLinspaceHead(1.0, 0.0, num_steps + 1, num_steps);
  ShiftSigmas(shift, s);
  // set_timesteps(sigmas=...) applies the constructor shift once more.
  ShiftSigmas(options().shift, s);
  Schedule schedule;
  DiscretizeSchedule(s, options().num_train_timesteps, &schedule.timesteps, &schedule.sigmas);
  return schedule;
}

void DpmPPScheduler::ResetState() {
  model_outputs_.assign(static_cast<size_t>(options().solver_order), torch::Tensor());
  lower_order_nums_ = 0;
}

torch::Tensor DpmPPScheduler::DoStep(const torch::Tensor& model_output, int step_index,
                                     const torch::Tensor& sample_in) {
  const int k = step_index;
  const torch::Tensor& sigmas = this->sigmas();
  // With final sigma 0 the last step is always first order.
  const bool lower_order_final = k == num_steps() - 1;

  // convert_model_output: x0 = sample - sigma * v.
  const torch::Tensor x0 = sample_in - sigmas[k] * model_output;
  std::vector<torch::Tensor> outputs(model_outputs_.begin() + 1, model_outputs_.end());
  outputs.push_back(x0);

  const torch::Tensor sample = sample_in.to(at::kFloat);
  const torch::Tensor sigma_t = sigmas[k + 1];
  const torch::Tensor sigma_s0 = sigmas[k];
  const torch::Tensor alpha_t = 1 - sigma_t;
  const torch::Tensor lambda_s0 = Lambda(sigma_s0);
  const torch::Tensor h = Lambda(sigma_t) - lambda_s0;
  const torch::Tensor coef = alpha_t * (at::exp(-h) - 1.0);

  torch::Tensor x_t;
  if (options().solver_order == 1 || lower_order_nums_ < 1 || lower_order_final) {
    x_t = (sigma_t / sigma_s0) * sample - coef * x0;
  } else {
    // Second-order midpoint update.
    const torch::Tensor& m0 = outputs.back();
    const torch::Tensor& m1 = outputs[outputs.size() - 2];
    const torch::Tensor h_0 = lambda_s0 - Lambda(sigmas[k - 1]);
    const torch::Tensor r0 = h_0 / h;
    const torch::Tensor d1 = (at::reciprocal(r0) * 1.0) * (m0 - m1);
    x_t = (sigma_t / sigma_s0) * sample - coef * m0 - (0.5 * coef) * d1;
  }
  torch::Tensor prev_sample = x_t.to(x0.scalar_type());

  model_outputs_ = std::move(outputs);
  if (lower_order_nums_ < options().solver_order) ++lower_order_nums_;
  return prev_sample;
}

}  // namespace videogen::schedulers

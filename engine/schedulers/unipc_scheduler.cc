#include "engine/schedulers/unipc_scheduler.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "engine/schedulers/flow_schedule.h"

// The arithmetic mirrors the reference operation by operation: sigmas are
// float32 0-d tensors and every coefficient is a float32 0-d tensor, so the
// rounding matches. Step() of the reference takes a `generator` it never uses.

namespace videogen::schedulers {
namespace {

// lambda = log(alpha) - log(sigma) with alpha = 1 - sigma (flow matching).
torch::Tensor Lambda(const torch::Tensor& sigma) { return at::log(1 - sigma) - at::log(sigma); }

}  // namespace

UniPCScheduler::UniPCScheduler(const SchedulerOptions& options) : FlowScheduler(SamplerKind::kUniPC, options) {
  ResetState();
}

FlowScheduler::Schedule UniPCScheduler::ComputeSchedule(int num_steps, double shift) const {
  const double sigma_max = TrainingSigmaMax(options().num_train_timesteps, options().shift);
  std::vector<double> s = NumpyLinspaceHead(sigma_max, 0.0, num_steps + 1, num_steps);
  ShiftSigmas(shift, s);
  Schedule schedule;
  DiscretizeSchedule(s, options().num_train_timesteps, &schedule.timesteps, &schedule.sigmas);
  return schedule;
}

void UniPCScheduler::ResetState() {
  model_outputs_.assign(static_cast<size_t>(options().solver_order), torch::Tensor());
  last_sample_ = torch::Tensor();
  lower_order_nums_ = 0;
  this_order_ = 0;
}

torch::Tensor UniPCScheduler::Predict(const std::vector<torch::Tensor>& outputs, int k,
                                      const torch::Tensor& sample, int order) const {
  const torch::Tensor& sigmas = this->sigmas();
  const torch::Tensor sigma_t = sigmas[k + 1];
  const torch::Tensor sigma_s0 = sigmas[k];
  const torch::Tensor alpha_t = 1 - sigma_t;
  const torch::Tensor lambda_s0 = Lambda(sigma_s0);
  const torch::Tensor h = Lambda(sigma_t) - lambda_s0;
  const torch::Tensor& m0 = outputs.back();

  const torch::Tensor hh = -h;  // predict_x0
  const torch::Tensor h_phi_1 = at::expm1(hh);
  const torch::Tensor b_h = at::expm1(hh);  // bh2
  torch::Tensor x_t = (sigma_t / sigma_s0) * sample - (alpha_t * h_phi_1) * m0;
  if (order == 2) {
    const torch::Tensor& m1 = outputs[outputs.size() - 2];
    const torch::Tensor rk = (Lambda(sigmas[k - 1]) - lambda_s0) / h;
    const torch::Tensor d1 = (m1 - m0) / rk;
    // rhos_p = [0.5] for order 2; the einsum over one term is a product.
    const torch::Tensor pred_res = d1 * 0.5;
    x_t = x_t - (alpha_t * b_h) * pred_res;
  }
  return x_t.to(sample.scalar_type());
}

torch::Tensor UniPCScheduler::Correct(const torch::Tensor& this_output, int k, const torch::Tensor& last_sample,
                                      const torch::Tensor& this_sample, int order) const {
  const torch::Tensor& sigmas = this->sigmas();
  const torch::Tensor sigma_t = sigmas[k];
  const torch::Tensor sigma_s0 = sigmas[k - 1];
  const torch::Tensor alpha_t = 1 - sigma_t;
  const torch::Tensor lambda_s0 = Lambda(sigma_s0);
  const torch::Tensor h = Lambda(sigma_t) - lambda_s0;
  const torch::Tensor& m0 = model_outputs_.back();

  torch::Tensor rk, d1;
  if (order == 2) {
    const torch::Tensor& m1 = model_outputs_[model_outputs_.size() - 2];
    rk = (Lambda(sigmas[k - 2]) - lambda_s0) / h;
    d1 = (m1 - m0) / rk;
  }
  const torch::Tensor hh = -h;  // predict_x0
  const torch::Tensor h_phi_1 = at::expm1(hh);
  const torch::Tensor b_h = at::expm1(hh);  // bh2

  // rhos_c: 0.5 for order 1, else solve(R, b) with R = [rks^0; rks^1],
  // rks = [rk, 1], b_i = h_phi_i * i! / B(h).
  torch::Tensor rho_d1, rho_t;
  if (order == 1) {
    rho_t = at::full({}, 0.5, sigma_t.options());
  } else {
    torch::Tensor h_phi_k = h_phi_1 / hh - 1;
    const torch::Tensor b0 = (h_phi_k * 1) / b_h;
    h_phi_k = h_phi_k / hh - 1.0 / 2.0;
    const torch::Tensor b1 = (h_phi_k * 2) / b_h;
    const torch::Tensor rks = at::stack({rk, at::ones({}, rk.options())});
    const torch::Tensor r = at::stack({at::pow(rks, 0), at::pow(rks, 1)});
    const torch::Tensor rhos_c = at::linalg_solve(r, at::stack({b0, b1}));
    rho_d1 = rhos_c[0];
    rho_t = rhos_c[1];
  }

  torch::Tensor x_t = (sigma_t / sigma_s0) * last_sample - (alpha_t * h_phi_1) * m0;
  const torch::Tensor d1_t = this_output - m0;
  torch::Tensor res = rho_t * d1_t;
  if (order == 2) res = rho_d1 * d1 + res;  // corr_res + rhos_c[-1] * D1_t
  x_t = x_t - (alpha_t * b_h) * res;
  return x_t.to(last_sample.scalar_type());
}

torch::Tensor UniPCScheduler::DoStep(const torch::Tensor& model_output, int step_index,
                                     const torch::Tensor& sample) {
  const int k = step_index;
  const int solver_order = options().solver_order;
  // convert_model_output: x0 = sample - sigma * v.
  const torch::Tensor x0 = sample - sigmas()[k] * model_output;

  const bool use_corrector = k > 0 && last_sample_.defined();
  const torch::Tensor corrected =
      use_corrector ? Correct(x0, k, last_sample_, sample, this_order_) : sample;

  std::vector<torch::Tensor> outputs(model_outputs_.begin() + 1, model_outputs_.end());
  outputs.push_back(x0);

  int order = options().lower_order_final ? std::min(solver_order, num_steps() - k) : solver_order;
  order = std::min(order, lower_order_nums_ + 1);  // warm-up
  const torch::Tensor prev_sample = Predict(outputs, k, corrected, order);

  // Commit the state only once everything above has succeeded.
  model_outputs_ = std::move(outputs);
  last_sample_ = corrected;
  this_order_ = order;
  if (lower_order_nums_ < solver_order) ++lower_order_nums_;
  return prev_sample;
}

}  // namespace videogen::schedulers

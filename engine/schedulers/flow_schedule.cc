#include "engine/schedulers/flow_schedule.h"

#include <ATen/ATen.h>

// This file is compiled with -ffp-contract=off (see CMakeLists.txt): every
// product and sum below is rounded separately, as numpy does.

namespace videogen::schedulers {

std::vector<double> NumpyLinspaceHead(double start, double stop, int64_t num, int64_t count) {
  const double step = (stop - start) / static_cast<double>(num - 1);
  std::vector<double> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<double>(i) * step + start;
  return out;
}

void ShiftSigmas(double shift, std::vector<double>& sigmas) {
  for (double& s : sigmas) s = shift * s / (1.0 + (shift - 1.0) * s);
}

double TrainingSigmaMax(int num_train_timesteps, double shift) {
  // numpy: alphas = linspace(1, 1/N, N)[::-1]; alphas[0] is the exact endpoint 1/N.
  const float s = static_cast<float>(1.0 - 1.0 / static_cast<double>(num_train_timesteps));
  // torch float32 ops with Python-float scalars (cast to float32).
  const float num = static_cast<float>(shift) * s;
  const float den = static_cast<float>(shift - 1.0) * s + 1.0f;
  return static_cast<double>(num / den);
}

void DiscretizeSchedule(const std::vector<double>& sigmas, int num_train_timesteps,
                        torch::Tensor* timesteps, torch::Tensor* sigmas_out) {
  const int64_t n = static_cast<int64_t>(sigmas.size());
  *timesteps = at::empty({n}, at::kLong);
  *sigmas_out = at::empty({n + 1}, at::kFloat);
  int64_t* t = timesteps->data_ptr<int64_t>();
  float* s = sigmas_out->data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    t[i] = static_cast<int64_t>(sigmas[i] * static_cast<double>(num_train_timesteps));
    s[i] = static_cast<float>(sigmas[i]);
  }
  s[n] = 0.0f;
}

}  // namespace videogen::schedulers

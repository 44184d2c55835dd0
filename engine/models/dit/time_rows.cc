#include "engine/models/dit/time_rows.h"

#include <tuple>

#include <ATen/ATen.h>

namespace videogen::models {

torch::Tensor TimeRows::PerToken(const torch::Tensor& r) const {
  if (!index.defined()) return r.unsqueeze(1);
  return r.index_select(0, index.flatten()).view({index.size(0), index.size(1), r.size(-1)});
}

torch::Tensor SinusoidalEmbedding(int64_t dim, const torch::Tensor& t) {
  const int64_t half = dim / 2;
  const torch::Tensor pos = t.to(torch::kFloat64);
  const torch::Tensor freqs = at::pow(10000.0, -at::arange(half, pos.options()).div(static_cast<double>(half)));
  const torch::Tensor s = at::outer(pos, freqs);
  return at::cat({at::cos(s), at::sin(s)}, 1);
}

TimeRows DistinctTimesteps(const torch::Tensor& t) {
  if (t.dim() != 2) return TimeRows{t.flatten(), torch::Tensor()};
  const auto [values, inverse, counts] = at::_unique2(t.flatten(), /*sorted=*/true, /*return_inverse=*/true);
  return TimeRows{values, inverse.view(t.sizes()).to(torch::kLong)};
}

}  // namespace videogen::models

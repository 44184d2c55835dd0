#include "engine/models/dit/layers.h"

#include <ATen/ATen.h>

namespace videogen::models {

WanRMSNormImpl::WanRMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor WanRMSNormImpl::forward(const torch::Tensor& x) {
  // x: [..., dim]
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return normed.to(x.scalar_type()) * weight.to(x.scalar_type());
}

torch::Tensor LayerNormNoAffine(const torch::Tensor& x, double eps) {
  // x: [..., C]
  return at::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, {}, {}, eps).to(x.scalar_type());
}

GeluMlpImpl::GeluMlpImpl(int64_t in, int64_t hidden, int64_t out, std::string approximate, quant::ParamInit init)
    : approximate_(std::move(approximate)) {
  fc0_ = register_module("0", quant::QuantLinear(in, hidden, init));
  fc2_ = register_module("2", quant::QuantLinear(hidden, out, init));
}

torch::Tensor GeluMlpImpl::forward(const torch::Tensor& x) {
  // x: [..., in]
  torch::Tensor hidden = fc0_(x);
  return fc2_(at::gelu_(hidden, approximate_));  // in place: the same values, one [.., hidden] tensor fewer
}

}  // namespace videogen::models

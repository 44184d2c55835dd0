#include "engine/models/dit/layers.h"

#include <ATen/ATen.h>

#include "engine/models/dit/fused_ops.h"

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

torch::Tensor PatchEmbed(const torch::nn::Conv3dImpl& conv, const torch::Tensor& x) {
  // weight: [dim, C, pt, ph, pw]; x: [C, F, H, W]
  const torch::Tensor& w = conv.weight;
  const int64_t c = x.size(0), pt = w.size(2), ph = w.size(3), pw = w.size(4);
  const int64_t f = x.size(1) / pt, h = x.size(2) / ph, wd = x.size(3) / pw;
  // [C, f, pt, h, ph, w, pw] -> [f, h, w, C, pt, ph, pw]: one row per patch,
  // its columns in the weight's (C, pt, ph, pw) order.
  const torch::Tensor patches = x.to(w.device(), w.scalar_type())
                                    .reshape({c, f, pt, h, ph, wd, pw})
                                    .permute({1, 3, 5, 0, 2, 4, 6})
                                    .reshape({f * h * wd, c * pt * ph * pw});
  return at::linear(patches, w.flatten(1), conv.bias);
}

GeluMlpImpl::GeluMlpImpl(int64_t in, int64_t hidden, int64_t out, std::string approximate, quant::ParamInit init)
    : approximate_(std::move(approximate)) {
  fc0_ = register_module("0", quant::QuantLinear(in, hidden, init));
  fc2_ = register_module("2", quant::QuantLinear(hidden, out, init));
}

torch::Tensor GeluMlpImpl::forward(const torch::Tensor& x) {
  // x: [..., in]
  torch::Tensor hidden = fc0_(x);
  // In place: the same values, one [.., hidden] tensor fewer. bf16/fp16 on the
  // CPU: one vectorised pass (fused_ops.h) instead of LibTorch's scalar one.
  if (FusedKernelDtype(hidden.scalar_type()) && approximate_ == "tanh" && hidden.device().is_cpu() &&
      hidden.is_contiguous()) {
    return fc2_(GeluTanhInPlace(hidden));
  }
  return fc2_(at::gelu_(hidden, approximate_));
}

}  // namespace videogen::models

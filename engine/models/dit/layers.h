// Small layers shared by the Wan DiT blocks, named as in wan/modules/model.py.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "engine/quant/quant_linear.h"

namespace videogen::models {

// WanRMSNorm: x * rsqrt(mean(x^2) + eps) * weight, statistics in float32.
class WanRMSNormImpl : public torch::nn::Module {
 public:
  WanRMSNormImpl(int64_t dim, double eps);
  // x: [..., dim]
  torch::Tensor forward(const torch::Tensor& x);
  double eps() const { return eps_; }
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(WanRMSNorm);

// WanLayerNorm without affine parameters (norm1, norm2, head.norm), float32 statistics.
torch::Tensor LayerNormNoAffine(const torch::Tensor& x, double eps);

// nn.Sequential(Linear, GELU(approximate=tanh), Linear) with the official
// child names "0" and "2" (ffn, text_embedding); `approximate` is "tanh" or "none".
// Both linears are quant::QuantLinear (fp8-capable; see engine/quant/policy.h).
class GeluMlpImpl : public torch::nn::Module {
 public:
  GeluMlpImpl(int64_t in, int64_t hidden, int64_t out, std::string approximate,
              quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x);
  // The dtype the first linear computes in.
  torch::ScalarType compute_dtype() const { return fc0_->compute_dtype(); }

 private:
  quant::QuantLinear fc0_{nullptr}, fc2_{nullptr};
  std::string approximate_;
};
TORCH_MODULE(GeluMlp);

}  // namespace videogen::models

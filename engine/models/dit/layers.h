// Small layers shared by the Wan DiT blocks, named as in wan/modules/model.py.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
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

// The DiT's patch embedding, nn.Conv3d(in, dim, kernel_size=patch,
// stride=patch), computed as one GEMM over the non-overlapping patches: the
// same sum of products as the convolution (GEMM rounding only). x: [C, F, H, W]
// with F, H, W multiples of the patch (the caller checks); returns the tokens
// [f*h*w, dim] in (f, h, w) order, the order of conv(x).flatten(2).transpose(1, 2),
// in the weight's dtype. Not the convolution itself because LibTorch 2.6's CPU
// bfloat16 convolution (oneDNN) returns wrong values or NaN for input channel
// counts above 16 that are not multiples of 16 — 36 for Wan I2V / FLF2V (rel
// error 0.29 or NaN on a Zen 5 CPU; tests/engine/models/dit/patch_embed_test.cc).
torch::Tensor PatchEmbed(const torch::nn::Conv3dImpl& conv, const torch::Tensor& x);

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

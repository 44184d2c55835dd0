// Building blocks of the Wan2.1 VAE (wan/modules/vae.py): RMS_norm,
// ResidualBlock and AttentionBlock, with the official parameter names.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"

namespace videogen::models::vae {

// RMS_norm: F.normalize over the channel dim (x / max(||x||_2, 1e-12))
// * sqrt(C) * gamma (+ bias). Parameters `gamma` [C, 1, 1] (images) or
// [C, 1, 1, 1] (videos), `bias` of the same shape only when `bias` is true.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, bool images, bool bias = false);

  // x: [B, C, ...] (channels first) -> same shape.
  torch::Tensor forward(const torch::Tensor& x);

  // silu(forward(x)), a new tensor: one RmsNormSilu pass on a contiguous
  // float32 CPU x (rms_norm_silu.h), the ops otherwise.
  torch::Tensor ForwardSilu(const torch::Tensor& x);

  torch::Tensor gamma;
  torch::Tensor bias;  // undefined when the block has no bias

 private:
  double scale_;
};
TORCH_MODULE(RMSNorm);

// ResidualBlock: residual = [RMS_norm, SiLU, CausalConv3d(3), RMS_norm, SiLU,
// Dropout, CausalConv3d(3)] (names residual.0/.2/.3/.6), shortcut =
// CausalConv3d(1) when in_dim != out_dim.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in_dim, int64_t out_dim, double dropout);

  // x: [B, in_dim, T, H, W] -> [B, out_dim, T, H, W]; uses two slots of `cache`.
  // A cancellation point first (CancelPoint("VAE residual block"), cancel_point.h).
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  torch::nn::ModuleList residual_;
  RMSNorm norm1_{nullptr};
  CausalConv3d conv1_{nullptr};
  RMSNorm norm2_{nullptr};
  CausalConv3d conv2_{nullptr};
  CausalConv3d shortcut_{nullptr};  // null when in_dim == out_dim
};
TORCH_MODULE(ResidualBlock);

// AttentionBlock: single-head self-attention over the h*w positions of each
// frame (norm, to_qkv 1x1 conv, proj 1x1 conv), plus the identity.
class AttentionBlockImpl : public torch::nn::Module {
 public:
  explicit AttentionBlockImpl(int64_t dim);

  // x: [B, C, T, H, W] -> same shape. Frames are independent (no cache).
  torch::Tensor forward(const torch::Tensor& x);

 private:
  RMSNorm norm_{nullptr};
  torch::nn::Conv2d to_qkv_{nullptr};
  torch::nn::Conv2d proj_{nullptr};
};
TORCH_MODULE(AttentionBlock);

}  // namespace videogen::models::vae

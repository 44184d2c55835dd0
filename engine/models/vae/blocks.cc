#include "engine/models/vae/blocks.h"

#include <cmath>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>

#include "engine/common/cancel_point.h"
#include "engine/models/common/attention.h"
#include "engine/models/vae/rms_norm_silu.h"

namespace videogen::models::vae {

RMSNormImpl::RMSNormImpl(int64_t dim, bool images, bool bias) : scale_(std::sqrt(static_cast<double>(dim))) {
  const std::vector<int64_t> shape = images ? std::vector<int64_t>{dim, 1, 1} : std::vector<int64_t>{dim, 1, 1, 1};
  gamma = register_parameter("gamma", at::ones(shape));
  if (bias) this->bias = register_parameter("bias", at::zeros(shape));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  // x: [B, C, ...]
  // The official op order, with one full-size result written in place: the
  // same values as x / norm * scale * gamma (+ bias) without its temporaries.
  const torch::Tensor norm = at::norm(x, 2, {1}, /*keepdim=*/true).clamp_min(1e-12);
  torch::Tensor y = x / norm;
  y.mul_(scale_).mul_(gamma);
  if (bias.defined()) y.add_(bias);
  return y;
}

torch::Tensor RMSNormImpl::ForwardSilu(const torch::Tensor& x) {
  if (RmsNormSiluApplies(x) && gamma.scalar_type() == at::kFloat) return RmsNormSilu(x, gamma, bias, scale_);
  torch::Tensor y = forward(x);  // fresh: SiLU in place
  return at::silu_(y);
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in_dim, int64_t out_dim, double dropout) {
  norm1_ = RMSNorm(in_dim, /*images=*/false);
  conv1_ = CausalConv3d(CausalConv3dOptions{in_dim, out_dim, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}});
  norm2_ = RMSNorm(out_dim, /*images=*/false);
  conv2_ = CausalConv3d(CausalConv3dOptions{out_dim, out_dim, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}});
  // The official nn.Sequential, so that parameters are named residual.{0,2,3,6}.
  residual_ = register_module("residual", torch::nn::ModuleList());
  residual_->push_back(norm1_);
  residual_->push_back(torch::nn::SiLU());
  residual_->push_back(conv1_);
  residual_->push_back(norm2_);
  residual_->push_back(torch::nn::SiLU());
  residual_->push_back(torch::nn::Dropout(dropout));
  residual_->push_back(conv2_);
  if (in_dim != out_dim) {
    shortcut_ = register_module("shortcut", CausalConv3d(CausalConv3dOptions{in_dim, out_dim}));
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, in_dim, T, H, W]
  CancelPoint("VAE residual block");
  // In place where a result is fresh (the norms' and convolutions' outputs):
  // the same values, fewer full-size activations alive at once.
  const torch::Tensor h = shortcut_ ? shortcut_->forward(x) : x;
  // Each convolution's input is moved in, so it is freed before the
  // convolution runs.
  torch::Tensor y = CachedCausalConv(*conv1_, norm1_->ForwardSilu(x), cache);
  y = norm2_->ForwardSilu(y);  // conv1's output freed here, before conv2 runs
  y = CachedCausalConv(*conv2_, std::move(y), cache);  // dropout: identity at inference
  return y.add_(h);
}

AttentionBlockImpl::AttentionBlockImpl(int64_t dim) {
  norm_ = register_module("norm", RMSNorm(dim, /*images=*/true));
  to_qkv_ = register_module("to_qkv", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim * 3, 1)));
  proj_ = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 1)));
}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& x) {
  // x: [B, C, T, H, W]
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
  torch::Tensor y = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, w});
  y = to_qkv_->forward(norm_->forward(y));                  // [BT, 3C, H, W]
  y = y.reshape({b * t, 3 * c, h * w}).transpose(1, 2);     // [BT, HW, 3C]
  std::vector<torch::Tensor> qkv = y.chunk(3, /*dim=*/-1);  // 3 x [BT, HW, C]
  torch::Tensor out = Attention(qkv[0].unsqueeze(2), qkv[1].unsqueeze(2), qkv[2].unsqueeze(2));
  out = out.squeeze(2).transpose(1, 2).reshape({b * t, c, h, w});  // [BT, C, H, W]
  out = proj_->forward(out);
  out = out.reshape({b, t, c, h, w}).permute({0, 2, 1, 3, 4});
  return out + x;
}

}  // namespace videogen::models::vae

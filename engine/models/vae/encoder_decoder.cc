#include "engine/models/vae/encoder_decoder.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

namespace videogen::models::vae {

CoderOptions CoderOptions::From(const VaeConfig& config, int64_t dim, int64_t z_dim) {
  CoderOptions o;
  o.dim = dim;
  o.z_dim = z_dim;
  o.dim_mult = config.dim_mult;
  o.num_res_blocks = config.num_res_blocks;
  o.attn_scales = config.attn_scales;
  o.temperal_sample = config.temperal_downsample;
  o.dropout = config.dropout;
  return o;
}
namespace {

bool Contains(const std::vector<double>& scales, double scale) {
  return std::find(scales.begin(), scales.end(), scale) != scales.end();
}

CausalConv3dOptions Conv3x3(int64_t in, int64_t out) {
  return CausalConv3dOptions{in, out, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}};
}

VaeStage AddResidual(torch::nn::ModuleList& list, int64_t in, int64_t out, double dropout) {
  VaeStage stage;
  stage.residual = ResidualBlock(in, out, dropout);
  list->push_back(stage.residual);
  return stage;
}

VaeStage AddAttention(torch::nn::ModuleList& list, int64_t dim) {
  VaeStage stage;
  stage.attention = AttentionBlock(dim);
  list->push_back(stage.attention);
  return stage;
}

VaeStage AddResample(torch::nn::ModuleList& list, int64_t dim, ResampleMode mode) {
  VaeStage stage;
  stage.resample = Resample(dim, mode);
  list->push_back(stage.resample);
  return stage;
}

}  // namespace

torch::Tensor VaeStage::forward(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, C, T, H, W]
  if (residual) return residual->forward(x, cache);
  if (attention) return attention->forward(x);
  return resample->forward(x, cache);
}

Encoder3dImpl::Encoder3dImpl(const CoderOptions& o) {
  std::vector<int64_t> dims = {o.dim};
  for (int64_t m : o.dim_mult) dims.push_back(o.dim * m);
  double scale = 1.0;

  conv1_ = register_module("conv1", CausalConv3d(Conv3x3(3, dims[0])));

  downsamples_ = register_module("downsamples", torch::nn::ModuleList());
  const size_t levels = o.dim_mult.size();
  int64_t out_dim = dims[0];
  for (size_t i = 0; i < levels; ++i) {
    int64_t in_dim = dims[i];
    out_dim = dims[i + 1];
    for (int64_t r = 0; r < o.num_res_blocks; ++r) {
      down_stages_.push_back(AddResidual(downsamples_, in_dim, out_dim, o.dropout));
      if (Contains(o.attn_scales, scale)) down_stages_.push_back(AddAttention(downsamples_, out_dim));
      in_dim = out_dim;
    }
    if (i + 1 != levels) {
      const ResampleMode mode = o.temperal_sample[i] ? ResampleMode::kDownsample3d : ResampleMode::kDownsample2d;
      down_stages_.push_back(AddResample(downsamples_, out_dim, mode));
      scale /= 2.0;
    }
  }

  middle_ = register_module("middle", torch::nn::ModuleList());
  middle0_ = ResidualBlock(out_dim, out_dim, o.dropout);
  middle1_ = AttentionBlock(out_dim);
  middle2_ = ResidualBlock(out_dim, out_dim, o.dropout);
  middle_->push_back(middle0_);
  middle_->push_back(middle1_);
  middle_->push_back(middle2_);

  head_ = register_module("head", torch::nn::ModuleList());
  head_norm_ = RMSNorm(out_dim, /*images=*/false);
  head_conv_ = CausalConv3d(Conv3x3(out_dim, o.z_dim));
  head_->push_back(head_norm_);
  head_->push_back(torch::nn::SiLU());
  head_->push_back(head_conv_);
}

torch::Tensor Encoder3dImpl::forward(const torch::Tensor& x_in, FeatCache& cache) {
  // x: [B, 3, T, H, W]
  torch::Tensor x = CachedCausalConv(*conv1_, x_in, cache);
  for (VaeStage& stage : down_stages_) x = stage.forward(x, cache);
  x = middle0_->forward(x, cache);
  x = middle1_->forward(x);
  x = middle2_->forward(x, cache);
  torch::Tensor y = head_norm_->ForwardSilu(x);
  x = torch::Tensor();  // neither x nor y alive during the convolution
  return CachedCausalConv(*head_conv_, std::move(y), cache);
}

Decoder3dImpl::Decoder3dImpl(const CoderOptions& o) {
  const size_t levels = o.dim_mult.size();
  std::vector<int64_t> dims = {o.dim * o.dim_mult.back()};
  for (auto it = o.dim_mult.rbegin(); it != o.dim_mult.rend(); ++it) dims.push_back(o.dim * *it);
  double scale = std::ldexp(1.0, 2 - static_cast<int>(levels));  // 1 / 2^(levels - 2)
  // The temporal upsampling flags are the encoder's, reversed.
  std::vector<bool> temperal_upsample(o.temperal_sample.rbegin(), o.temperal_sample.rend());

  conv1_ = register_module("conv1", CausalConv3d(Conv3x3(o.z_dim, dims[0])));

  middle_ = register_module("middle", torch::nn::ModuleList());
  middle0_ = ResidualBlock(dims[0], dims[0], o.dropout);
  middle1_ = AttentionBlock(dims[0]);
  middle2_ = ResidualBlock(dims[0], dims[0], o.dropout);
  middle_->push_back(middle0_);
  middle_->push_back(middle1_);
  middle_->push_back(middle2_);

  upsamples_ = register_module("upsamples", torch::nn::ModuleList());
  int64_t out_dim = dims[0];
  for (size_t i = 0; i < levels; ++i) {
    int64_t in_dim = dims[i];
    out_dim = dims[i + 1];
    // As in the reference: levels 1..3 start after an upsample, which halved the channels.
    if (i == 1 || i == 2 || i == 3) in_dim /= 2;
    for (int64_t r = 0; r < o.num_res_blocks + 1; ++r) {
      up_stages_.push_back(AddResidual(upsamples_, in_dim, out_dim, o.dropout));
      if (Contains(o.attn_scales, scale)) up_stages_.push_back(AddAttention(upsamples_, out_dim));
      in_dim = out_dim;
    }
    if (i + 1 != levels) {
      const ResampleMode mode = temperal_upsample[i] ? ResampleMode::kUpsample3d : ResampleMode::kUpsample2d;
      up_stages_.push_back(AddResample(upsamples_, out_dim, mode));
      scale *= 2.0;
    }
  }

  head_ = register_module("head", torch::nn::ModuleList());
  head_norm_ = RMSNorm(out_dim, /*images=*/false);
  head_conv_ = CausalConv3d(Conv3x3(out_dim, 3));
  head_->push_back(head_norm_);
  head_->push_back(torch::nn::SiLU());
  head_->push_back(head_conv_);
}

torch::Tensor Decoder3dImpl::forward(const torch::Tensor& x_in, FeatCache& cache) {
  // x: [B, z_dim, T, h, w]
  torch::Tensor x = CachedCausalConv(*conv1_, x_in, cache);
  x = middle0_->forward(x, cache);
  x = middle1_->forward(x);
  x = middle2_->forward(x, cache);
  for (VaeStage& stage : up_stages_) x = stage.forward(x, cache);
  torch::Tensor y = head_norm_->ForwardSilu(x);
  x = torch::Tensor();  // neither x nor y alive during the convolution
  return CachedCausalConv(*head_conv_, std::move(y), cache);
}

}  // namespace videogen::models::vae

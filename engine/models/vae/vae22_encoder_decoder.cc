#include "engine/models/vae/vae22_encoder_decoder.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

namespace videogen::models::vae {
namespace {

CausalConv3dOptions Conv3x3(int64_t in, int64_t out) {
  return CausalConv3dOptions{in, out, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}};
}

// middle = [ResidualBlock, AttentionBlock, ResidualBlock] of `dim` channels.
void BuildMiddle(torch::nn::ModuleList& middle, int64_t dim, double dropout, ResidualBlock& first,
                 AttentionBlock& attention, ResidualBlock& last) {
  first = ResidualBlock(dim, dim, dropout);
  attention = AttentionBlock(dim);
  last = ResidualBlock(dim, dim, dropout);
  middle->push_back(first);
  middle->push_back(attention);
  middle->push_back(last);
}

// head = [RMS_norm, SiLU, CausalConv3d(dim, out, 3)].
void BuildHead(torch::nn::ModuleList& head, int64_t dim, int64_t out, RMSNorm& norm, CausalConv3d& conv) {
  norm = RMSNorm(dim, /*images=*/false);
  conv = CausalConv3d(Conv3x3(dim, out));
  head->push_back(norm);
  head->push_back(torch::nn::SiLU());
  head->push_back(conv);
}

}  // namespace

Wan22Encoder3dImpl::Wan22Encoder3dImpl(const CoderOptions& o) {
  std::vector<int64_t> dims = {o.dim};
  for (int64_t m : o.dim_mult) dims.push_back(o.dim * m);

  conv1_ = register_module("conv1", CausalConv3d(Conv3x3(kWan22PatchedChannels, dims[0])));

  downsamples_ = register_module("downsamples", torch::nn::ModuleList());
  const size_t levels = o.dim_mult.size();
  for (size_t i = 0; i < levels; ++i) {
    Vae22LevelOptions level;
    level.in_dim = dims[i];
    level.out_dim = dims[i + 1];
    level.num_blocks = o.num_res_blocks;
    level.dropout = o.dropout;
    if (i + 1 != levels) {
      level.resample = o.temperal_sample[i] ? ResampleMode::kDownsample3d : ResampleMode::kDownsample2d;
    }
    levels_.push_back(DownResidualBlock(level));
    downsamples_->push_back(levels_.back());
  }

  middle_ = register_module("middle", torch::nn::ModuleList());
  BuildMiddle(middle_, dims.back(), o.dropout, middle0_, middle1_, middle2_);
  head_ = register_module("head", torch::nn::ModuleList());
  BuildHead(head_, dims.back(), o.z_dim, head_norm_, head_conv_);
}

torch::Tensor Wan22Encoder3dImpl::forward(const torch::Tensor& x_in, FeatCache& cache) {
  // x: [B, 12, T, H, W]
  torch::Tensor x = CachedCausalConv(*conv1_, x_in, cache);
  for (DownResidualBlock& level : levels_) x = level->forward(x, cache);
  x = middle0_->forward(x, cache);
  x = middle1_->forward(x);
  x = middle2_->forward(x, cache);
  return CachedCausalConv(*head_conv_, head_norm_->ForwardSilu(x), cache);
}

Wan22Decoder3dImpl::Wan22Decoder3dImpl(const CoderOptions& o) {
  const size_t levels = o.dim_mult.size();
  std::vector<int64_t> dims = {o.dim * o.dim_mult.back()};
  for (auto it = o.dim_mult.rbegin(); it != o.dim_mult.rend(); ++it) dims.push_back(o.dim * *it);
  // The temporal upsampling flags are the encoder's, reversed.
  const std::vector<bool> temperal_upsample(o.temperal_sample.rbegin(), o.temperal_sample.rend());

  conv1_ = register_module("conv1", CausalConv3d(Conv3x3(o.z_dim, dims[0])));
  middle_ = register_module("middle", torch::nn::ModuleList());
  BuildMiddle(middle_, dims[0], o.dropout, middle0_, middle1_, middle2_);

  upsamples_ = register_module("upsamples", torch::nn::ModuleList());
  for (size_t i = 0; i < levels; ++i) {
    Vae22LevelOptions level;
    level.in_dim = dims[i];
    level.out_dim = dims[i + 1];
    level.num_blocks = o.num_res_blocks + 1;
    level.dropout = o.dropout;
    if (i + 1 != levels) {
      level.resample = temperal_upsample[i] ? ResampleMode::kUpsample3d : ResampleMode::kUpsample2d;
    }
    levels_.push_back(UpResidualBlock(level));
    upsamples_->push_back(levels_.back());
  }

  head_ = register_module("head", torch::nn::ModuleList());
  BuildHead(head_, dims.back(), kWan22PatchedChannels, head_norm_, head_conv_);
}

torch::Tensor Wan22Decoder3dImpl::forward(const torch::Tensor& x_in, FeatCache& cache, bool first_chunk) {
  // x: [B, z_dim, T, h, w]
  torch::Tensor x = CachedCausalConv(*conv1_, x_in, cache);
  x = middle0_->forward(x, cache);
  x = middle1_->forward(x);
  x = middle2_->forward(x, cache);
  for (UpResidualBlock& level : levels_) x = level->forward(x, cache, first_chunk);
  return CachedCausalConv(*head_conv_, head_norm_->ForwardSilu(x), cache);
}

}  // namespace videogen::models::vae

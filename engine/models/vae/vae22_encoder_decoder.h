// Encoder3d and Decoder3d of the Wan2.2 VAE (wan/modules/vae2_2.py), run one
// temporal chunk at a time with a FeatCache carried across chunks. They work
// on 2x2-patchified video (12 channels); the patchify is the caller's.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "engine/models/vae/blocks.h"
#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/encoder_decoder.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae22_blocks.h"

namespace videogen::models::vae {

// Channels of a 2x2-patchified RGB video (3 * 2 * 2).
inline constexpr int64_t kWan22PatchedChannels = 12;

// Parameters conv1.*, downsamples.N.downsamples.M.*, middle.{0,1,2}.*,
// head.{0,2}.*. options.attn_scales is ignored (no attention in the levels).
class Wan22Encoder3dImpl : public torch::nn::Module {
 public:
  explicit Wan22Encoder3dImpl(const CoderOptions& options);

  // One chunk (the caller rewinds `cache` before each chunk).
  // x: [B, 12, T, H, W] -> [B, z_dim, T', H / 2^(levels-1), W / 2^(levels-1)].
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  CausalConv3d conv1_{nullptr};
  torch::nn::ModuleList downsamples_;
  std::vector<DownResidualBlock> levels_;
  torch::nn::ModuleList middle_;
  ResidualBlock middle0_{nullptr};
  AttentionBlock middle1_{nullptr};
  ResidualBlock middle2_{nullptr};
  torch::nn::ModuleList head_;
  RMSNorm head_norm_{nullptr};
  CausalConv3d head_conv_{nullptr};
};
TORCH_MODULE(Wan22Encoder3d);

// Parameters conv1.*, middle.{0,1,2}.*, upsamples.N.upsamples.M.*,
// head.{0,2}.*. options.dim is the decoder width (dec_dim);
// options.temperal_sample is the encoder's temperal_downsample (reversed here).
class Wan22Decoder3dImpl : public torch::nn::Module {
 public:
  explicit Wan22Decoder3dImpl(const CoderOptions& options);

  // One chunk (the caller rewinds `cache` before each chunk; `first_chunk` for
  // latent frame 0). x: [B, z_dim, T, h, w] -> [B, 12, T', h * 2^(levels-1), w * 2^(levels-1)].
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache, bool first_chunk);

 private:
  CausalConv3d conv1_{nullptr};
  torch::nn::ModuleList middle_;
  ResidualBlock middle0_{nullptr};
  AttentionBlock middle1_{nullptr};
  ResidualBlock middle2_{nullptr};
  torch::nn::ModuleList upsamples_;
  std::vector<UpResidualBlock> levels_;
  torch::nn::ModuleList head_;
  RMSNorm head_norm_{nullptr};
  CausalConv3d head_conv_{nullptr};
};
TORCH_MODULE(Wan22Decoder3d);

}  // namespace videogen::models::vae

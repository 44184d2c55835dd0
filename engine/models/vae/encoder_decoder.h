// Encoder3d and Decoder3d of the Wan2.1 VAE (wan/modules/vae.py), run one
// temporal chunk at a time with a FeatCache carried across chunks.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/blocks.h"
#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/resample.h"
#include "engine/models/vae/vae_config.h"

namespace videogen::models::vae {

// One entry of the official downsamples / upsamples nn.Sequential: exactly
// one member is non-null.
struct VaeStage {
  ResidualBlock residual{nullptr};
  AttentionBlock attention{nullptr};
  Resample resample{nullptr};

  // x: [B, C, T, H, W] -> the stage's output.
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);
};

struct CoderOptions {
  int64_t dim = 0;
  int64_t z_dim = 0;  // output channels of the encoder / input channels of the decoder
  std::vector<int64_t> dim_mult;
  int64_t num_res_blocks = 0;
  std::vector<double> attn_scales;
  std::vector<bool> temperal_sample;  // temperal_downsample / temperal_upsample
  double dropout = 0.0;

  // The options of a WanVAE_'s encoder or decoder: `config`'s levels, blocks,
  // attention scales, temporal sampling and dropout at width `dim` with
  // `z_dim` latent channels (the encoder outputs 2 * z_dim: mean and log-variance).
  static CoderOptions From(const VaeConfig& config, int64_t dim, int64_t z_dim);
};

// Parameters conv1.*, downsamples.N.*, middle.{0,1,2}.*, head.{0,2}.*.
class Encoder3dImpl : public torch::nn::Module {
 public:
  explicit Encoder3dImpl(const CoderOptions& options);

  // One chunk (the caller rewinds `cache` before each chunk).
  // x: [B, 3, T, H, W] -> [B, z_dim, T', H / 2^(levels-1), W / 2^(levels-1)].
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  CausalConv3d conv1_{nullptr};
  torch::nn::ModuleList downsamples_;
  std::vector<VaeStage> down_stages_;
  torch::nn::ModuleList middle_;
  ResidualBlock middle0_{nullptr};
  AttentionBlock middle1_{nullptr};
  ResidualBlock middle2_{nullptr};
  torch::nn::ModuleList head_;
  RMSNorm head_norm_{nullptr};
  CausalConv3d head_conv_{nullptr};
};
TORCH_MODULE(Encoder3d);

// Parameters conv1.*, middle.{0,1,2}.*, upsamples.N.*, head.{0,2}.*.
class Decoder3dImpl : public torch::nn::Module {
 public:
  explicit Decoder3dImpl(const CoderOptions& options);

  // One chunk (the caller rewinds `cache` before each chunk).
  // x: [B, z_dim, T, h, w] -> [B, 3, T', h * 2^(levels-1), w * 2^(levels-1)].
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  CausalConv3d conv1_{nullptr};
  torch::nn::ModuleList middle_;
  ResidualBlock middle0_{nullptr};
  AttentionBlock middle1_{nullptr};
  ResidualBlock middle2_{nullptr};
  torch::nn::ModuleList upsamples_;
  std::vector<VaeStage> up_stages_;
  torch::nn::ModuleList head_;
  RMSNorm head_norm_{nullptr};
  CausalConv3d head_conv_{nullptr};
};
TORCH_MODULE(Decoder3d);

}  // namespace videogen::models::vae

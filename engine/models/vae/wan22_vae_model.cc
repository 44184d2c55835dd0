#include "engine/models/vae/wan22_vae_model.h"

#include <ATen/ATen.h>

#include "engine/models/vae/vae22_blocks.h"

namespace videogen::models::vae {

Wan22VAE_Impl::Wan22VAE_Impl(const VaeConfig& config) : config_(config) {
  encoder_ = register_module("encoder", Wan22Encoder3d(CoderOptions::From(config, config.dim, 2 * config.z_dim)));
  conv1_ = register_module("conv1", CausalConv3d(CausalConv3dOptions{2 * config.z_dim, 2 * config.z_dim}));
  conv2_ = register_module("conv2", CausalConv3d(CausalConv3dOptions{config.z_dim, config.z_dim}));
  decoder_ = register_module("decoder", Wan22Decoder3d(CoderOptions::From(config, config.dec_dim, config.z_dim)));
}

torch::Tensor Wan22VAE_Impl::EncodeChunk(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, 3, t, H, W]
  cache.Rewind();
  return encoder_->forward(Patchify(x, config_.patch_size()), cache);
}

torch::Tensor Wan22VAE_Impl::Mu(const torch::Tensor& out) {
  // out: [B, 2 * z_dim, T, h, w]
  return conv1_->forward(out).chunk(2, /*dim=*/1)[0];
}

torch::Tensor Wan22VAE_Impl::PrepareDecode(const torch::Tensor& z) {
  // z: [B, z_dim, T, h, w]
  return conv2_->forward(z);
}

torch::Tensor Wan22VAE_Impl::DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool first_chunk) {
  // x: [B, z_dim, 1, h, w]
  cache.Rewind();
  return Unpatchify(decoder_->forward(x, cache, first_chunk), config_.patch_size());
}

}  // namespace videogen::models::vae

#include "engine/models/vae/wan_vae_model.h"

#include <ATen/ATen.h>

namespace videogen::models::vae {

WanVAE_Impl::WanVAE_Impl(const VaeConfig& config) : config_(config) {
  encoder_ = register_module("encoder", Encoder3d(CoderOptions::From(config, config.dim, 2 * config.z_dim)));
  conv1_ = register_module("conv1", CausalConv3d(CausalConv3dOptions{2 * config.z_dim, 2 * config.z_dim}));
  conv2_ = register_module("conv2", CausalConv3d(CausalConv3dOptions{config.z_dim, config.z_dim}));
  decoder_ = register_module("decoder", Decoder3d(CoderOptions::From(config, config.dim, config.z_dim)));
}

torch::Tensor WanVAE_Impl::EncodeChunk(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, 3, t, H, W]
  cache.Rewind();
  return encoder_->forward(x, cache);
}

torch::Tensor WanVAE_Impl::Mu(const torch::Tensor& out) {
  // out: [B, 2 * z_dim, T, h, w]
  return conv1_->forward(out).chunk(2, /*dim=*/1)[0];
}

torch::Tensor WanVAE_Impl::PrepareDecode(const torch::Tensor& z) {
  // z: [B, z_dim, T, h, w]
  return conv2_->forward(z);
}

torch::Tensor WanVAE_Impl::DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool /*first_chunk*/) {
  // x: [B, z_dim, 1, h, w]
  cache.Rewind();
  return decoder_->forward(x, cache);
}

}  // namespace videogen::models::vae

#include "engine/models/vae/wan_vae_model.h"

#include <ATen/ATen.h>

namespace videogen::models::vae {

WanVAE_Impl::WanVAE_Impl(const VaeConfig& config) : config_(config) {
  encoder_ = register_module("encoder", Encoder3d(CoderOptions::From(config, config.dim, 2 * config.z_dim)));
  RegisterLatentConvs(config.z_dim);
  decoder_ = register_module("decoder", Decoder3d(CoderOptions::From(config, config.dim, config.z_dim)));
}

torch::Tensor WanVAE_Impl::EncodeChunk(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, 3, t, H, W]
  cache.Rewind();
  return encoder_->forward(x, cache);
}

torch::Tensor WanVAE_Impl::DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool /*first_chunk*/) {
  // x: [B, z_dim, 1, h, w]
  cache.Rewind();
  return decoder_->forward(x, cache);
}

}  // namespace videogen::models::vae

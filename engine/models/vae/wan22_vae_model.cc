#include "engine/models/vae/wan22_vae_model.h"

#include <ATen/ATen.h>

#include "engine/models/vae/vae22_blocks.h"

namespace videogen::models::vae {

Wan22VAE_Impl::Wan22VAE_Impl(const VaeConfig& config) : config_(config) {
  encoder_ = register_module("encoder", Wan22Encoder3d(CoderOptions::From(config, config.dim, 2 * config.z_dim)));
  RegisterLatentConvs(config.z_dim);
  decoder_ = register_module("decoder", Wan22Decoder3d(CoderOptions::From(config, config.dec_dim, config.z_dim)));
}

torch::Tensor Wan22VAE_Impl::EncodeChunk(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, 3, t, H, W]
  cache.Rewind();
  return encoder_->forward(Patchify(x, config_.patch_size()), cache);
}

torch::Tensor Wan22VAE_Impl::DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool first_chunk) {
  // x: [B, z_dim, 1, h, w]
  cache.Rewind();
  return Unpatchify(decoder_->forward(x, cache, first_chunk), config_.patch_size());
}

}  // namespace videogen::models::vae

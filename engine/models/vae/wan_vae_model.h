// WanVAE_ of wan/modules/vae.py (the Wan2.1 VAE): the 3D causal VAE module
// with the official parameter names (encoder.*, conv1.*, conv2.*, decoder.*).
// The chunk loops, normalisation and clamping live in the WanVae wrapper (wan_vae.h).
#pragma once

#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/encoder_decoder.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/vae_module.h"

namespace videogen::models::vae {

// Thread safety as VaeModule. The chunk methods' shapes are VaeModule's with
// spatial stride 2^(levels - 1) (8 for the official config).
class WanVAE_Impl : public VaeModule {
 public:
  // Precondition: config.Validate() is OK and config.version is kWan21.
  explicit WanVAE_Impl(const VaeConfig& config);

  torch::Tensor EncodeChunk(const torch::Tensor& x, FeatCache& cache) override;
  // `first_chunk` changes nothing here (the Wan2.1 decoder has no frame drop).
  torch::Tensor DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool first_chunk) override;

  const VaeConfig& config() const override { return config_; }

 private:
  VaeConfig config_;
  Encoder3d encoder_{nullptr};
  Decoder3d decoder_{nullptr};
};
TORCH_MODULE(WanVAE_);

}  // namespace videogen::models::vae

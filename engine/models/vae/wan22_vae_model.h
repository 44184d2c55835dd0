// WanVAE_ of wan/modules/vae2_2.py (the Wan2.2 TI2V-5B VAE): the 3D causal VAE
// module with the official parameter names (encoder.*, conv1.*, conv2.*,
// decoder.*), so Wan2.2_VAE.pth and ComfyUI's wan2.2_vae.safetensors load 1:1.
// Its chunks include the 2x2 patchify / unpatchify; the chunk loops,
// normalisation and clamping live in the WanVae wrapper (wan_vae.h).
#pragma once

#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae22_encoder_decoder.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/vae_module.h"

namespace videogen::models::vae {

// Thread safety as VaeModule. The chunk methods' shapes are VaeModule's with
// spatial stride 2 * 2^(levels - 1) (16 for the official config).
class Wan22VAE_Impl : public VaeModule {
 public:
  // Precondition: config.Validate() is OK and config.version is kWan22.
  explicit Wan22VAE_Impl(const VaeConfig& config);

  // Patchifies x 2x2 and runs the encoder on the 12-channel chunk.
  torch::Tensor EncodeChunk(const torch::Tensor& x, FeatCache& cache) override;
  // Runs the decoder (first_chunk drops the level shortcuts' leading frames)
  // and unpatchifies its 12-channel output.
  torch::Tensor DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool first_chunk) override;

  const VaeConfig& config() const override { return config_; }

 private:
  VaeConfig config_;
  Wan22Encoder3d encoder_{nullptr};
  Wan22Decoder3d decoder_{nullptr};
};
TORCH_MODULE(Wan22VAE_);

}  // namespace videogen::models::vae

// WanVAE_ of wan/modules/vae.py: the 3D causal VAE module with the official
// parameter names (encoder.*, conv1.*, conv2.*, decoder.*). The chunk loops,
// normalisation and clamping live in the WanVae wrapper (wan_vae.h).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/encoder_decoder.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae_config.h"

namespace videogen::models::vae {

// Not thread-safe while loading; the forward methods keep no state (caches are
// the caller's), so several threads may run them on one module under NoGradGuard.
class WanVAE_Impl : public torch::nn::Module {
 public:
  // Precondition: config.Validate() is OK.
  explicit WanVAE_Impl(const VaeConfig& config);

  // Frame ranges [begin, end) of the encoder chunks of a video with `frames`
  // frames: [0, 1), [1, 5), [5, 9), ... (1 + (frames - 1) / 4 chunks).
  static std::vector<std::pair<int64_t, int64_t>> EncodeChunks(int64_t frames);

  // One encoder chunk (rewinds `cache`): x: [B, 3, t, H, W] -> [B, 2 * z_dim, t', H/8, W/8].
  torch::Tensor EncodeChunk(const torch::Tensor& x, FeatCache& cache);
  // conv1 on the concatenated encoder output, mu half:
  // out: [B, 2 * z_dim, T, h, w] -> mu [B, z_dim, T, h, w].
  torch::Tensor Mu(const torch::Tensor& out);

  // conv2 over all latent frames: z: [B, z_dim, T, h, w] -> same shape.
  torch::Tensor PrepareDecode(const torch::Tensor& z);
  // One decoder chunk (rewinds `cache`): x: [B, z_dim, 1, h, w] -> [B, 3, t, 8h, 8w]
  // (t = 1 for the first chunk, 4 after with the official config).
  torch::Tensor DecodeChunk(const torch::Tensor& x, FeatCache& cache);

  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  Encoder3d encoder_{nullptr};
  CausalConv3d conv1_{nullptr};
  CausalConv3d conv2_{nullptr};
  Decoder3d decoder_{nullptr};
};
TORCH_MODULE(WanVAE_);

}  // namespace videogen::models::vae

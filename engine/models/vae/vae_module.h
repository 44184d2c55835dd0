// The chunk-level interface of a Wan VAE module (WanVAE_ of wan/modules/vae.py
// or of wan/modules/vae2_2.py) that the WanVae wrapper drives: it owns the
// parameters under the official state_dict names; the chunk loops,
// normalisation and clamping are the wrapper's.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae_config.h"

namespace videogen::models::vae {

// Not thread-safe while loading; the chunk methods keep no state (caches are
// the caller's), so several threads may run them on one module under NoGradGuard.
class VaeModule : public torch::nn::Module {
 public:
  // Frame ranges [begin, end) of the encoder chunks of a video with `frames`
  // frames: [0, 1), [1, 5), [5, 9), ... (1 + (frames - 1) / 4 chunks).
  static std::vector<std::pair<int64_t, int64_t>> EncodeChunks(int64_t frames);

  // One encoder chunk (rewinds `cache`): video frames
  // x: [B, 3, t, H, W] -> [B, 2 * z_dim, t', H / s, W / s], s = config().spatial_stride().
  virtual torch::Tensor EncodeChunk(const torch::Tensor& x, FeatCache& cache) = 0;
  // conv1 on the concatenated encoder output, mu half:
  // out: [B, 2 * z_dim, T, h, w] -> mu [B, z_dim, T, h, w].
  torch::Tensor Mu(const torch::Tensor& out);

  // conv2 over all latent frames: z: [B, z_dim, T, h, w] -> same shape.
  torch::Tensor PrepareDecode(const torch::Tensor& z);
  // One decoder chunk (rewinds `cache`): x: [B, z_dim, 1, h, w] -> video frames
  // [B, 3, t, s h, s w] (t = 1 for the first chunk, 4 after with the official
  // configs). `first_chunk`: x is latent frame 0 (the reference's first_chunk).
  virtual torch::Tensor DecodeChunk(const torch::Tensor& x, FeatCache& cache, bool first_chunk) = 0;

  virtual const VaeConfig& config() const = 0;

 protected:
  // Registers the latent 1x1x1 convs both VAEs share, conv1 (2 z_dim ->
  // 2 z_dim) and conv2 (z_dim -> z_dim); constructors call it between the
  // encoder and the decoder (registration order is the state-dict order).
  void RegisterLatentConvs(int64_t z_dim);

 private:
  CausalConv3d conv1_{nullptr};
  CausalConv3d conv2_{nullptr};
};

// Builds the module of config.version (WanVAE_ or Wan22VAE_) with
// uninitialised parameters. Precondition: config.Validate() is OK.
std::shared_ptr<VaeModule> MakeVaeModule(const VaeConfig& config);

}  // namespace videogen::models::vae

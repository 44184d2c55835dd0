// WanVae: the official VAE wrappers that the pipelines use, WanVAE
// (wan/modules/vae.py, Wan2.1) and Wan2_2_VAE (wan/modules/vae2_2.py, the
// TI2V-5B VAE), picked by VaeConfig::version. Encodes videos into normalised
// latents and decodes latents into videos, in the reference's causal chunks,
// with cooperative cancellation between chunks and optional spatial tiling of
// the decode.
//
// In the shapes below C = config().z_dim (16 for Wan2.1, 48 for Wan2.2) and
// s = config().spatial_stride() (8 for Wan2.1, 16 for Wan2.2).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"
#include "engine/io/tensor_source.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/vae_module.h"

namespace videogen::models::vae {

// Called after every chunk with (chunks done, total chunks) of the whole call
// (all videos / latents and, when tiling, all tiles). Runs on the calling thread.
using VaeProgressFn = std::function<void(int done, int total)>;

struct WanVaeOptions {
  // The WanVAE_ constructor arguments; `version` picks the module and the
  // normalisation constants. z_dim must be 16 for kWan21 and 48 for kWan22
  // (the wrappers' constants have that many channels).
  VaeConfig config = VaeConfig::Wan21();
  // Parameters are loaded in float32 onto this device; inputs are moved there.
  torch::Device device = torch::kCPU;
  // The causal 3-D convolutions' dtype (kFloat: the reference). kBFloat16 or
  // kHalf: their weights and biases are kept in that dtype and each one
  // convolves its input rounded to it, with a float32 result (everything
  // between the convolutions stays float32): faster (CPU bf16: 1.5x on a
  // 416x240 decode), not faithful (see CausalConv3dImpl::Convolve).
  at::ScalarType conv_dtype = at::kFloat;
};

struct EncodeOptions {
  VaeProgressFn progress;  // optional
};

struct DecodeOptions {
  // Unset: decode whole frames (the reference). Set: decode overlapping
  // spatial tiles of this edge (in latent pixels) and blend them; each tile
  // runs the whole temporal decode with its own cache. Approximate: the
  // decoder's receptive field (and its per-frame attention) spans the whole
  // frame, so tiles differ from the untiled decode near their seams.
  std::optional<int> tile_latent_size;
  // Overlap of neighbouring tiles in latent pixels, blended with linear ramps
  // over overlap * s output pixels. Must be in [0, tile_latent_size).
  int tile_overlap = 4;
  VaeProgressFn progress;  // optional
};

// Thread safety: after Create(), every method is const and may be called
// concurrently (the chunk caches belong to each call).
class WanVae {
 public:
  // Builds the WanVAE_ of options.config.version (MakeVaeModule) and loads
  // its state dict from `weights` (official key names). InvalidArgument for an
  // invalid config, a z_dim other than the version's (16 / 48),
  // missing/unexpected/mis-shaped tensors; DataLoss / ResourceExhausted from loading.
  static absl::StatusOr<std::unique_ptr<WanVae>> Create(const io::TensorSource& weights,
                                                        const WanVaeOptions& options);
  // The same from a checkpoint path (Wan2.1_VAE.pth, Wan2.2_VAE.pth,
  // *.safetensors; see OpenCheckpoint).
  static absl::StatusOr<std::unique_ptr<WanVae>> Open(const std::string& path,
                                                      const WanVaeOptions& options);

  // videos[i]: [3, F, H, W] in [-1, 1] with F = 1 + 4k and H, W multiples of s
  // -> normalised latents [C, 1 + k, H / s, W / s]: (mu - mean) * (1 / std).
  // Errors: InvalidArgument naming the input (videos[i]) for a wrong rank,
  // channel count, frame count or size; Cancelled / DeadlineExceeded from
  // `cancel` (checked before every chunk and, through a CancelScope, every
  // residual block); ResourceExhausted on out-of-memory.
  absl::StatusOr<std::vector<torch::Tensor>> Encode(const std::vector<torch::Tensor>& videos,
                                                    const CancelToken* cancel = nullptr) const;
  absl::StatusOr<std::vector<torch::Tensor>> Encode(const std::vector<torch::Tensor>& videos,
                                                    const EncodeOptions& options,
                                                    const CancelToken* cancel = nullptr) const;
  // As Encode, without the normalisation (WanVAE_.encode with scale [0, 1]).
  absl::StatusOr<std::vector<torch::Tensor>> EncodeMu(const std::vector<torch::Tensor>& videos,
                                                      const EncodeOptions& options = {},
                                                      const CancelToken* cancel = nullptr) const;

  // latents[i]: [C, T, h, w] normalised -> videos [3, 1 + 4 (T - 1), s h, s w]
  // clamped to [-1, 1]. Errors: InvalidArgument naming the input (latents[i])
  // or the DecodeOptions field; Cancelled / DeadlineExceeded from `cancel`
  // (checked before every chunk and every residual block); ResourceExhausted
  // on out-of-memory.
  absl::StatusOr<std::vector<torch::Tensor>> Decode(const std::vector<torch::Tensor>& latents,
                                                    const DecodeOptions& options = {},
                                                    const CancelToken* cancel = nullptr) const;
  // As Decode, before the clamp (WanVAE_.decode).
  absl::StatusOr<std::vector<torch::Tensor>> DecodeUnclamped(
      const std::vector<torch::Tensor>& latents, const DecodeOptions& options = {},
      const CancelToken* cancel = nullptr) const;

  // mu [C, T, h, w] or [B, C, T, h, w] -> (mu - mean) * (1 / std), and back: z / (1 / std) + mean.
  torch::Tensor Normalize(const torch::Tensor& mu) const;
  torch::Tensor Denormalize(const torch::Tensor& z) const;

  const VaeConfig& config() const { return config_; }
  // The WanVAE_ module (for resident-memory accounting).
  const torch::nn::Module& module() const { return *model_; }

 private:
  WanVae(const VaeConfig& config, std::shared_ptr<VaeModule> model, torch::Device device);

  absl::Status CheckVideo(const torch::Tensor& video, size_t index) const;
  absl::Status CheckLatent(const torch::Tensor& latent, size_t index) const;

  // Constant after construction.
  VaeConfig config_;
  // Non-const through the pointer: forward passes read the parameters only; every call owns its caches.
  std::shared_ptr<VaeModule> model_;
  torch::Device device_;
  torch::Tensor mean_;     // float32 [C]
  torch::Tensor inv_std_;  // float32 [C], 1 / std computed in float32 as the reference does
};

}  // namespace videogen::models::vae

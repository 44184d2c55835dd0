// The building blocks that the Wan2.2 VAE (wan/modules/vae2_2.py) adds to the
// Wan2.1 ones (blocks.h, resample.h): the 2x2 patchify, the parameter-free
// AvgDown3D / DupUp3D shortcuts, and the Down_ResidualBlock / Up_ResidualBlock
// levels, with the official parameter names.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/models/vae/blocks.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/resample.h"

namespace videogen::models::vae {

// rearrange 'b c f (h q) (w r) -> b (c r q) f h w' with q = r = patch: channel
// c * patch^2 + r * patch + q holds pixel (h * patch + q, w * patch + r).
// x: [B, C, F, H, W] (H, W multiples of patch) -> [B, C * patch^2, F, H / patch, W / patch].
torch::Tensor Patchify(const torch::Tensor& x, int64_t patch);
// The inverse: x: [B, C * patch^2, F, h, w] -> [B, C, F, h * patch, w * patch].
torch::Tensor Unpatchify(const torch::Tensor& x, int64_t patch);

// AvgDown3D: zero-pads the front of time to a multiple of factor_t, folds each
// factor_t x factor_s x factor_s block into channels (channel-major: c, then
// the t, h, w offsets) and averages consecutive groups of
// in * factor / out_channels of those channels.
// x: [B, C, T, H, W] (H, W multiples of factor_s)
//   -> [B, out_channels, ceil(T / factor_t), H / factor_s, W / factor_s].
// Precondition: C * factor_t * factor_s^2 is a multiple of out_channels.
torch::Tensor AvgDown3D(const torch::Tensor& x, int64_t out_channels, int64_t factor_t, int64_t factor_s);

// DupUp3D: repeats every channel out * factor / C times (repeat_interleave) and
// unfolds the result into factor_t x factor_s x factor_s blocks, the inverse
// layout of AvgDown3D. `first_chunk` drops the first factor_t - 1 frames.
// x: [B, C, T, H, W] -> [B, out_channels, T * factor_t (- factor_t + 1), H * factor_s, W * factor_s].
// Precondition: out_channels * factor_t * factor_s^2 is a multiple of C.
torch::Tensor DupUp3D(const torch::Tensor& x, int64_t out_channels, int64_t factor_t, int64_t factor_s,
                      bool first_chunk);

// One level of the Wan2.2 encoder or decoder.
struct Vae22LevelOptions {
  int64_t in_dim = 0;
  int64_t out_dim = 0;
  int64_t num_blocks = 0;  // ResidualBlocks (the reference's `mult`)
  double dropout = 0.0;
  // The level's closing Resample (the encoder's downsample2d / 3d, the
  // decoder's upsample2d / 3d, which keep the width), or none (last level).
  std::optional<ResampleMode> resample;
};

// Down_ResidualBlock: downsamples = [ResidualBlock x num_blocks, Resample?]
// (parameters downsamples.N.*) plus the AvgDown3D(in, out, factor_t 2 for
// downsample3d, factor_s 2 when resampling) shortcut of the level's input.
class DownResidualBlockImpl : public torch::nn::Module {
 public:
  // Precondition: resample is unset or a downsample mode.
  explicit DownResidualBlockImpl(const Vae22LevelOptions& options);

  // x: [B, in_dim, T, H, W] -> [B, out_dim, T', H', W'] (Resample's chunk rules;
  // the shortcut is stateless). Uses the slots of its blocks in `cache`.
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  Vae22LevelOptions options_;
  torch::nn::ModuleList downsamples_;
  std::vector<ResidualBlock> blocks_;
  Resample resample_{nullptr};
};
TORCH_MODULE(DownResidualBlock);

// Up_ResidualBlock: upsamples = [ResidualBlock x num_blocks, Resample?]
// (parameters upsamples.N.*) plus, when resampling, the DupUp3D(in, out,
// factor_t 2 for upsample3d, factor_s 2) shortcut of the level's input.
class UpResidualBlockImpl : public torch::nn::Module {
 public:
  // Precondition: resample is unset or an upsample mode.
  explicit UpResidualBlockImpl(const Vae22LevelOptions& options);

  // x: [B, in_dim, T, h, w] -> [B, out_dim, T', h', w']. `first_chunk` is the
  // decoder's first chunk: the shortcut drops its first factor_t - 1 frames,
  // as the main path's upsample3d does not upsample time on that chunk.
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache, bool first_chunk);

 private:
  Vae22LevelOptions options_;
  torch::nn::ModuleList upsamples_;
  std::vector<ResidualBlock> blocks_;
  Resample resample_{nullptr};
};
TORCH_MODULE(UpResidualBlock);

}  // namespace videogen::models::vae

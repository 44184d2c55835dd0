// CausalConv3d of the Wan2.1 VAE: a Conv3d whose temporal padding is applied
// on the left only (2 * padding_t frames), optionally replaced by cached
// frames of the previous chunk.
#pragma once

#include <array>
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/winograd_conv.h"

namespace videogen::models::vae {

struct CausalConv3dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  std::array<int64_t, 3> kernel = {1, 1, 1};  // (t, h, w)
  std::array<int64_t, 3> stride = {1, 1, 1};
  std::array<int64_t, 3> padding = {0, 0, 0};  // as given to nn.Conv3d
};

// Parameters `weight` [out, in, kt, kh, kw] and `bias` [out] (nn.Conv3d names).
class CausalConv3dImpl : public torch::nn::Module {
 public:
  explicit CausalConv3dImpl(const CausalConv3dOptions& options);

  // x: [B, C_in, T, H, W]; cache: undefined or [B, C_in, t, H, W] frames that
  // precede x (they replace t of the 2 * padding_t zero frames; ignored when
  // padding_t == 0) -> [B, C_out, T', H', W'].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cache = {});

  // forward() in two steps: the temporally padded input (cache frames, then
  // x, always ending with x's frames) and the convolution of such an input.
  // Convolve: weights of another dtype than the input (a bf16/fp16 conv, see
  // WanVaeOptions::conv_dtype) convolve the input rounded to theirs, and the
  // result (rounded to theirs) is returned in the input's dtype. Float32
  // (kt, 3, 3) convolutions on the CPU run as WinogradConv where
  // WinogradApplies, others through oneDNN / at::conv3d.
  // ZeroFrames: how many zero frames CausalInput(x, cache) starts with;
  // Convolve skips the taps that read them when it is told (WinogradConv;
  // the other paths convolve them).
  torch::Tensor CausalInput(const torch::Tensor& x, const torch::Tensor& cache) const;
  int64_t ZeroFrames(const torch::Tensor& cache) const;
  torch::Tensor Convolve(const torch::Tensor& input, int64_t zero_frames = 0) const;

  const CausalConv3dOptions& options() const { return options_; }

  torch::Tensor weight;
  torch::Tensor bias;

 private:
  CausalConv3dOptions options_;
};
TORCH_MODULE(CausalConv3d);

// The reference's cached call of a causal conv (ResidualBlock, the conv1 and
// head of Encoder3d / Decoder3d): takes the next slot of `cache`, runs `conv`
// on x with the slot's frames, and stores the last kCacheT frames of x (with
// the previous last frame prepended when x has a single frame).
// x: [B, C_in, T, H, W] -> [B, C_out, T, H, W]. Takes x by value: a caller
// that moves its activation in lets it, and the slot's previous frames, be
// freed once the padded input is built, before the convolution runs (at
// 480p the decoder's last level holds 613 MB per activation and chunk).
torch::Tensor CachedCausalConv(CausalConv3dImpl& conv, torch::Tensor x, FeatCache& cache);

// Casts the weights and biases of every CausalConv3d under `root` (itself
// included) to `dtype`: each then convolves its input rounded to `dtype`, with
// a result in the input's dtype (Convolve). Other modules are left as they are.
void SetCausalConvDtype(torch::nn::Module& root, at::ScalarType dtype);

}  // namespace videogen::models::vae

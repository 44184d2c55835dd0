// Resample of the Wan VAEs: spatial x2 down/up-sampling, optionally with a
// causal temporal x2 (time_conv) that runs across chunks through FeatCache.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"

namespace videogen::models::vae {

enum class ResampleMode { kUpsample2d, kUpsample3d, kDownsample2d, kDownsample3d };

// Output channels of the upsampling Conv2d: the Wan2.1 VAE halves them
// (wan/modules/vae.py), the Wan2.2 VAE keeps them (wan/modules/vae2_2.py).
enum class UpsampleWidth { kHalve, kKeep };

// Parameters: resample.1.{weight,bias} (Conv2d; slot 0 is the parameter-free
// ZeroPad2d / nearest-exact Upsample) and, for the 3d modes, time_conv.*.
//  downsample: ZeroPad2d(0, 1, 0, 1) + Conv2d(dim, dim, 3, stride 2);
//    3d: time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride (2, 1, 1)).
//  upsample: nearest-exact x2 + Conv2d(dim, dim / 2 (kHalve) or dim (kKeep), 3, padding 1);
//    3d: time_conv = CausalConv3d(dim, 2 * dim, (3, 1, 1), padding (1, 0, 0)).
class ResampleImpl : public torch::nn::Module {
 public:
  // `width` matters for the upsample modes only.
  ResampleImpl(int64_t dim, ResampleMode mode, UpsampleWidth width = UpsampleWidth::kHalve);

  // x: [B, C, T, H, W] -> [B, C', T', H', W'] with (H', W') = (2H, 2W) or (H/2, W/2).
  // T' follows the reference's chunk rules: upsample3d gives T on its first
  // chunk and 2T after; downsample3d gives T on its first chunk and
  // (T + 1 - 3) / 2 + 1 after. The 3d modes use one slot of `cache`.
  torch::Tensor forward(const torch::Tensor& x, FeatCache& cache);

 private:
  torch::Tensor Spatial(const torch::Tensor& x);

  ResampleMode mode_;
  torch::nn::ModuleList resample_;
  torch::nn::Conv2d conv_{nullptr};
  CausalConv3d time_conv_{nullptr};
};
TORCH_MODULE(Resample);

}  // namespace videogen::models::vae

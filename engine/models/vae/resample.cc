#include "engine/models/vae/resample.h"

#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/padding.h>

#include "engine/models/vae/winograd_conv.h"

namespace videogen::models::vae {

ResampleImpl::ResampleImpl(int64_t dim, ResampleMode mode, UpsampleWidth width) : mode_(mode) {
  resample_ = register_module("resample", torch::nn::ModuleList());
  const bool up = mode == ResampleMode::kUpsample2d || mode == ResampleMode::kUpsample3d;
  if (up) {
    resample_->push_back(torch::nn::Identity());  // nearest-exact x2, applied in Spatial()
    const int64_t out = width == UpsampleWidth::kHalve ? dim / 2 : dim;
    conv_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, out, 3).padding(1));
  } else {
    resample_->push_back(torch::nn::ZeroPad2d(torch::nn::ZeroPad2dOptions({0, 1, 0, 1})));
    conv_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 3).stride(2));
  }
  resample_->push_back(conv_);
  if (mode == ResampleMode::kUpsample3d) {
    time_conv_ =
        register_module("time_conv", CausalConv3d(CausalConv3dOptions{dim, dim * 2, {3, 1, 1}, {1, 1, 1}, {1, 0, 0}}));
  } else if (mode == ResampleMode::kDownsample3d) {
    time_conv_ =
        register_module("time_conv", CausalConv3d(CausalConv3dOptions{dim, dim, {3, 1, 1}, {2, 1, 1}, {0, 0, 0}}));
  }
}

torch::Tensor ResampleImpl::Spatial(const torch::Tensor& x) {
  // x: [N, C, H, W]
  if (mode_ == ResampleMode::kUpsample2d || mode_ == ResampleMode::kUpsample3d) {
    const torch::Tensor up = at::_upsample_nearest_exact2d(x, {2 * x.size(2), 2 * x.size(3)}, 2.0, 2.0);
    // The 3x3 convolution (padding 1) as a one-frame, one-tap WinogradConv
    // where it applies (float32 on the CPU).
    const torch::Tensor weight = conv_->weight.unsqueeze(2);  // [C', C, 1, 3, 3], the same storage
    const torch::Tensor frames = up.unsqueeze(2);             // [N, C, 1, 2H, 2W]
    if (WinogradApplies(frames, weight, {1, 1, 1}, {0, 1, 1})) {
      return WinogradConv(frames, WinogradWeights(weight), 1, conv_->bias).squeeze(2);
    }
    return conv_->forward(up);
  }
  return conv_->forward(at::constant_pad_nd(x, {0, 1, 0, 1}, 0.0));
}

torch::Tensor ResampleImpl::forward(const torch::Tensor& x_in, FeatCache& cache) {
  // x: [B, C, T, H, W]
  torch::Tensor x = x_in;
  const int64_t b = x.size(0), c = x.size(1), h = x.size(3), w = x.size(4);
  if (mode_ == ResampleMode::kUpsample3d) {
    FeatCache::Slot& slot = cache.Next();
    if (slot.empty()) {
      // First chunk: no time upsampling; later chunks see the 'Rep' marker.
      slot.SetRep();
    } else {
      const int64_t t = x.size(2);
      torch::Tensor cache_x = x.narrow(2, std::max<int64_t>(0, t - kCacheT), std::min(t, kCacheT)).clone();
      if (cache_x.size(2) < 2 && slot.has_tensor()) {
        cache_x = at::cat({slot.value.narrow(2, slot.value.size(2) - 1, 1), cache_x}, 2);
      }
      if (cache_x.size(2) < 2 && slot.rep()) {
        cache_x = at::cat({at::zeros_like(cache_x), cache_x}, 2);
      }
      // 'Rep': the time conv runs with zero padding instead of cached frames.
      x = time_conv_->forward(x, slot.has_tensor() ? slot.value : torch::Tensor());
      slot.Set(std::move(cache_x));
      // [B, 2C, T, H, W] -> [B, C, 2T, H, W]: frame 2i from the first C
      // channels at time i, frame 2i + 1 from the second C.
      x = x.reshape({b, 2, c, t, h, w}).permute({0, 2, 3, 1, 4, 5}).reshape({b, c, 2 * t, h, w});
    }
  }

  // The 2-D part frame by frame, into one [B, C', T, H', W'] result: the x2
  // upsampled frame (4x the bytes of its input) and oneDNN's reordered copy
  // of it exist for one frame at a time, not for the whole chunk (at 480p the
  // decoder's last upsample made 1.2 GB of each for a 4-frame chunk). The
  // same computation per image; oneDNN may block one image differently from
  // four, so results can differ in the last bits (goldens unchanged within
  // tolerance: vae_decode worst rel_l2 1.74e-06 -> 1.75e-06).
  const int64_t t = x.size(2);
  torch::Tensor y;
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t ti = 0; ti < t; ++ti) {
      const torch::Tensor frame = Spatial(x.select(0, bi).select(1, ti).unsqueeze(0));  // [1, C', H', W']
      if (!y.defined()) y = at::empty({b, frame.size(1), t, frame.size(2), frame.size(3)}, frame.options());
      y.select(0, bi).select(1, ti).copy_(frame.squeeze(0));
    }
  }
  x = std::move(y);

  if (mode_ == ResampleMode::kDownsample3d) {
    FeatCache::Slot& slot = cache.Next();
    if (slot.empty()) {
      // First chunk: kept as is (no time downsampling), remembered for the next.
      slot.Set(x.clone());
    } else {
      torch::Tensor cache_x = x.narrow(2, x.size(2) - 1, 1).clone();
      x = time_conv_->forward(at::cat({slot.value.narrow(2, slot.value.size(2) - 1, 1), x}, 2));
      slot.Set(std::move(cache_x));
    }
  }
  return x;
}

}  // namespace videogen::models::vae

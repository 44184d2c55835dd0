#include "engine/models/vae/causal_conv3d.h"

#include <ATen/ATen.h>

namespace videogen::models::vae {
namespace {

// at::conv3d on the CPU picks oneDNN only above a size heuristic made for 2-D
// inputs (N*C*T*H > 20480); below it, narrow VAE layers (the tiny models, the
// first and last levels) fall to the single-threaded vol2col path, 20-35x
// slower than oneDNN on the same shapes (measured: C=8 [6,144,256] 266 ms vs
// 13 ms; C=32 [6,72,128] 271 vs 8 ms; C=96 [6,60,104] 52 vs 38 ms). Float32
// CPU inputs therefore go to oneDNN directly; anything else keeps at::conv3d.
torch::Tensor Conv3d(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                     at::IntArrayRef stride, at::IntArrayRef padding) {
  if (input.device().is_cpu() && input.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 &&
      at::hasMKLDNN() && !input.requires_grad()) {
    return at::mkldnn_convolution(input.contiguous(), weight.contiguous(), bias, padding, stride, {1, 1, 1}, 1);
  }
  return at::conv3d(input, weight, bias, stride, padding);
}

}  // namespace

CausalConv3dImpl::CausalConv3dImpl(const CausalConv3dOptions& options) : options_(options) {
  const auto& k = options_.kernel;
  weight = register_parameter(
      "weight", at::empty({options_.out_channels, options_.in_channels, k[0], k[1], k[2]}));
  bias = register_parameter("bias", at::zeros({options_.out_channels}));
}

torch::Tensor CausalConv3dImpl::forward(const torch::Tensor& x, const torch::Tensor& cache) {
  // x: [B, C_in, T, H, W]
  int64_t time_pad = 2 * options_.padding[0];
  torch::Tensor input = x;
  if (cache.defined() && time_pad > 0) {
    input = at::cat({cache.to(x.device()), x}, 2);
    time_pad -= cache.size(2);
  }
  if (time_pad > 0) {
    input = at::constant_pad_nd(input, {0, 0, 0, 0, time_pad, 0}, 0.0);
  } else if (time_pad < 0) {
    input = input.narrow(2, -time_pad, input.size(2) + time_pad);
  }
  // Spatial zero padding is symmetric, so the convolution applies it itself.
  const auto& s = options_.stride;
  const auto& p = options_.padding;
  return Conv3d(input, weight, bias, {s[0], s[1], s[2]}, {0, p[1], p[2]});
}

torch::Tensor CachedCausalConv(CausalConv3dImpl& conv, const torch::Tensor& x, FeatCache& cache) {
  // x: [B, C_in, T, H, W]
  FeatCache::Slot& slot = cache.Next();
  const int64_t t = x.size(2);
  torch::Tensor cache_x = x.narrow(2, std::max<int64_t>(0, t - kCacheT), std::min(t, kCacheT)).clone();
  if (cache_x.size(2) < 2 && slot.has_tensor()) {
    cache_x = at::cat({slot.value.narrow(2, slot.value.size(2) - 1, 1), cache_x}, 2);
  }
  torch::Tensor out = conv.forward(x, slot.has_tensor() ? slot.value : torch::Tensor());
  slot.Set(std::move(cache_x));
  return out;
}

}  // namespace videogen::models::vae

#include "engine/models/vae/causal_conv3d.h"

#include <algorithm>
#include <utility>
#include <vector>

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
  weight = register_parameter("weight", at::empty({options_.out_channels, options_.in_channels, k[0], k[1], k[2]}));
  bias = register_parameter("bias", at::zeros({options_.out_channels}));
}

torch::Tensor CausalConv3dImpl::forward(const torch::Tensor& x, const torch::Tensor& cache) {
  return Convolve(CausalInput(x, cache), ZeroFrames(cache));
}

int64_t CausalConv3dImpl::ZeroFrames(const torch::Tensor& cache) const {
  const int64_t time_pad = 2 * options_.padding[0];
  const int64_t cached = cache.defined() && time_pad > 0 ? cache.size(2) : 0;
  return std::max<int64_t>(0, time_pad - cached);
}

torch::Tensor CausalConv3dImpl::CausalInput(const torch::Tensor& x, const torch::Tensor& cache) const {
  // x: [B, C_in, T, H, W] -> [zero frames, cache frames, x] along T, built in
  // one allocation (a cat and then a pad held two full-size copies at once).
  const int64_t time_pad = 2 * options_.padding[0];
  const int64_t cached = cache.defined() && time_pad > 0 ? cache.size(2) : 0;
  const int64_t zeros = ZeroFrames(cache);
  const int64_t kept = std::min(cached, time_pad);  // a longer cache keeps its last frames
  if (zeros == 0 && kept == 0) return x;
  const int64_t t = x.size(2);
  torch::Tensor input = at::empty({x.size(0), x.size(1), zeros + kept + t, x.size(3), x.size(4)}, x.options());
  if (zeros > 0) input.narrow(2, 0, zeros).zero_();
  if (kept > 0) input.narrow(2, zeros, kept).copy_(cache.narrow(2, cached - kept, kept));
  input.narrow(2, zeros + kept, t).copy_(x);
  return input;
}

torch::Tensor CausalConv3dImpl::Convolve(const torch::Tensor& input, int64_t zero_frames) const {
  // Spatial zero padding is symmetric, so the convolution applies it itself.
  const auto& s = options_.stride;
  const auto& p = options_.padding;
  // Low-precision weights (WanVaeOptions::conv_dtype): the input rounded to
  // their dtype, the result back in the input's (both no-ops when they match).
  const std::vector<int64_t> stride = {s[0], s[1], s[2]}, padding = {0, p[1], p[2]};
  if (WinogradApplies(input, weight, stride, padding)) {
    return WinogradConv(input, WinogradWeights(weight), options_.kernel[0], bias, {zero_frames});
  }
  return Conv3d(input.to(weight.scalar_type()), weight, bias, stride, padding).to(input.scalar_type());
}

torch::Tensor CachedCausalConv(CausalConv3dImpl& conv, torch::Tensor x, FeatCache& cache) {
  // x: [B, C_in, T, H, W]
  FeatCache::Slot& slot = cache.Next();
  const int64_t t = x.size(2);
  torch::Tensor previous = slot.has_tensor() ? std::move(slot.value) : torch::Tensor();
  const CausalConv3dOptions& o = conv.options();
  if (o.kernel[0] == 3 && o.stride[0] == 1 && o.padding[0] == 1 && t > kCacheT) {
    // Output frame j reads padded frames j..j+2 of [2 lead frames, x]: the
    // first two outputs read the lead frames and x's first two, the others
    // x alone. So x is convolved as it is, without a padded copy of it (and
    // oneDNN's reordered copy of that) alive next to x: at 480p 2.15 GB at
    // once instead of 2.45 GB. Each output frame is computed as before.
    torch::Tensor head = conv.CausalInput(x.narrow(2, 0, kCacheT), previous);
    const int64_t zero_frames = conv.ZeroFrames(previous);
    previous = torch::Tensor();
    head = conv.Convolve(head, zero_frames);
    const torch::Tensor tail = conv.Convolve(x);
    slot.Set(x.narrow(2, t - kCacheT, kCacheT).clone());
    x = torch::Tensor();
    return at::cat({head, tail}, 2);
  }
  // The frames the next chunk gets: the reference's cache_x. A one-frame x
  // after a cached chunk keeps the previous last frame too, taken now (the
  // padded input need not hold it); otherwise they are x's last frames,
  // which end the padded input, and are copied after the convolution.
  torch::Tensor next;
  if (t < kCacheT && previous.defined()) {
    next = at::cat({previous.narrow(2, previous.size(2) - 1, 1), x.narrow(2, t - 1, 1)}, 2);
  }
  torch::Tensor input = conv.CausalInput(x, previous);
  const int64_t zero_frames = conv.ZeroFrames(previous);
  x = torch::Tensor();  // the caller's activation, when moved in, and the previous frames are no longer needed
  previous = torch::Tensor();
  torch::Tensor out = conv.Convolve(input, zero_frames);
  if (!next.defined()) {
    const int64_t keep = std::min(t, kCacheT);
    next = input.narrow(2, input.size(2) - keep, keep).clone();
  }
  slot.Set(std::move(next));
  return out;
}

void SetCausalConvDtype(torch::nn::Module& root, at::ScalarType dtype) {
  for (const std::shared_ptr<torch::nn::Module>& m : root.modules(/*include_self=*/true)) {
    if (auto* conv = dynamic_cast<CausalConv3dImpl*>(m.get())) conv->to(dtype);
  }
}

}  // namespace videogen::models::vae

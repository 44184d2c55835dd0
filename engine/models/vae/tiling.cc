#include "engine/models/vae/tiling.h"

#include <algorithm>

#include <ATen/ATen.h>

namespace videogen::models::vae {

std::vector<TileSpan> TileSpans(int64_t length, int64_t tile, int64_t overlap) {
  if (tile >= length) return {TileSpan{0, length}};
  const int64_t stride = tile - overlap;
  std::vector<TileSpan> spans;
  for (int64_t begin = 0;; begin += stride) {
    if (begin + tile >= length) {
      spans.push_back(TileSpan{length - tile, tile});
      break;
    }
    spans.push_back(TileSpan{begin, tile});
  }
  return spans;
}

torch::Tensor BlendRamp(const TileSpan& span, int64_t length, int64_t overlap, int64_t scale) {
  const int64_t n = span.size * scale;
  torch::Tensor w = at::ones({n}, at::kFloat);
  const int64_t ramp = std::min(overlap * scale, n);
  if (ramp <= 0) return w;
  const torch::Tensor rise = (at::arange(ramp, at::kFloat) + 0.5) / static_cast<double>(ramp);
  if (span.begin > 0) w.narrow(0, 0, ramp).copy_(at::minimum(w.narrow(0, 0, ramp), rise));
  if (span.begin + span.size < length) {
    w.narrow(0, n - ramp, ramp).copy_(at::minimum(w.narrow(0, n - ramp, ramp), rise.flip({0})));
  }
  return w;
}

}  // namespace videogen::models::vae

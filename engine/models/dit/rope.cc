#include "engine/models/dit/rope.h"

#include <algorithm>

#include <ATen/ATen.h>

namespace videogen::models {
namespace {

// Angles pos * theta^(-2j/dim) for positions [0, n) and j in [0, dim/2): [n, dim/2] float64.
torch::Tensor Angles(int64_t n, int64_t dim, double theta, const torch::TensorOptions& f64) {
  const torch::Tensor pos = at::arange(n, f64);
  const torch::Tensor inv = 1.0 / at::pow(theta, at::arange(0, dim, 2, f64) / static_cast<double>(dim));
  return at::outer(pos, inv);
}

}  // namespace

RopeTables MakeRopeTables(int64_t head_dim, const std::array<int64_t, 3>& grid, torch::Device device, double theta) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const int64_t c = head_dim / 2;
  const int64_t split[3] = {c - 2 * (c / 3), c / 3, c / 3};
  const int64_t f = grid[0], h = grid[1], w = grid[2];
  const torch::Tensor af = Angles(f, 2 * split[0], theta, f64).view({f, 1, 1, -1}).expand({f, h, w, split[0]});
  const torch::Tensor ah = Angles(h, 2 * split[1], theta, f64).view({1, h, 1, -1}).expand({f, h, w, split[1]});
  const torch::Tensor aw = Angles(w, 2 * split[2], theta, f64).view({1, 1, w, -1}).expand({f, h, w, split[2]});
  const torch::Tensor angles = at::cat({af, ah, aw}, -1).reshape({f * h * w, c});
  const torch::Tensor cos = at::cos(angles), sin = at::sin(angles);
  return {cos, sin, at::complex(cos, sin).unsqueeze(1), cos.to(torch::kFloat32), sin.to(torch::kFloat32)};
}

torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& tables) {
  // x: [L_total, H, d]
  // As the official rope_apply: view_as_complex(x.to(float64)) * (cos + i sin),
  // one complex128 multiply. Elementwise, so it runs over chunks of rows with
  // bit-identical results: the float64 temporaries stay kRopeChunkRows rows
  // long instead of the whole sequence (~2.7 GB for q and k at 32,760 tokens
  // of the 14B DiT).
  const int64_t len = tables.cos.size(0);
  const int64_t heads = x.size(1), d = x.size(2);
  const torch::Tensor& freqs = tables.freqs;  // [len, 1, d/2], built once per forward
  torch::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  for (int64_t start = 0; start < len; start += kRopeChunkRows) {
    const int64_t n = std::min(kRopeChunkRows, len - start);
    const torch::Tensor pairs = x.narrow(0, start, n).to(torch::kFloat64).contiguous().view({n, heads, d / 2, 2});
    const torch::Tensor rotated =
        at::view_as_real(at::view_as_complex(pairs) * freqs.narrow(0, start, n)).view({n, heads, d});
    out.narrow(0, start, n).copy_(rotated);
  }
  if (len < x.size(0)) out.narrow(0, len, x.size(0) - len).copy_(x.narrow(0, len, x.size(0) - len));
  return out;
}

}  // namespace videogen::models

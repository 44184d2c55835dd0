// 3-axis rotary position embedding of the Wan DiT (frame, height, width).
#pragma once

#include <array>
#include <cstdint>

#include <torch/types.h>

namespace videogen::models {

// Per-token rotation tables for a grid (F, H, W) in float64, [L = F*H*W, d/2]
// each: head_dim d has c = d/2 complex pairs split [c - 2(c/3), c/3, c/3] over
// (frame, height, width); each axis uses theta^(-2j/d_axis) with d_axis its own
// width, as the official rope_params tables.
struct RopeTables {
  torch::Tensor cos;  // [L, c] float64
  torch::Tensor sin;  // [L, c] float64
  torch::Tensor freqs;  // [L, 1, c] complex128: cos + i sin, what ApplyRope multiplies by
  torch::Tensor cos_f32;  // [L, c] float32: cos, sin rounded, for bf16/fp16 activations (fused_ops.h)
  torch::Tensor sin_f32;
};
RopeTables MakeRopeTables(int64_t head_dim, const std::array<int64_t, 3>& grid, torch::Device device,
                          double theta = 10000.0);

// Rows of x rotated per float64 chunk by ApplyRope (bounds its temporaries).
inline constexpr int64_t kRopeChunkRows = 2048;

// x: [L_total, H, d]; rotates the first tables.cos.size(0) rows in float64 on
// interleaved (even, odd) pairs, kRopeChunkRows rows at a time, and returns
// x.dtype; rows beyond are returned unchanged.
torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& tables);

}  // namespace videogen::models

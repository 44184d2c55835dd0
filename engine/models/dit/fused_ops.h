// Single-pass kernels of WanAttentionBlock for low-precision compute (bf16 or
// fp16 activations, as for bf16 and fp8-resident weights): each replaces a
// chain of LibTorch ops that wrote a float32 or float64 temporary per step.
// Statistics and arithmetic are float32 (LayerNorm statistics in double);
// results are rounded to the output dtype once. The float32 path of the block
// does not use them (it keeps the official op order, for the golden fixtures).
// On the CPU each is one pass of our own; on other devices (CUDA) the same
// arithmetic runs as LibTorch ops (GeluTanhInPlace: CPU only).
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "engine/models/dit/rope.h"

namespace videogen::models {

// x: [B, L, C] float32; shift, scale: float32, broadcastable as [B, 1 or L, C].
// Returns shift + LayerNorm(x) * (1 + scale) as a contiguous [B, L, C] tensor
// of `dtype` (kBFloat16 or kHalf); LayerNorm without affine, epsilon `eps`.
torch::Tensor ModulatedLayerNorm(const torch::Tensor& x, const torch::Tensor& shift, const torch::Tensor& scale,
                                 double eps, at::ScalarType dtype);

// y: [N, C] contiguous, bf16 or fp16, C = heads * d; weight: [C].
// Returns WanRMSNorm(y) (float32 statistics; normalised value rounded to y's
// dtype, then times the weight in y's dtype, as WanRMSNormImpl::forward) as
// [N, heads, d], with RoPE applied in float32 to the first
// tables->cos.size(0) rows when `tables` is given (rows beyond unrotated).
// rope_cos/rope_sin: the tables as float32 [L, d/2] (RopeTablesF32()).
torch::Tensor RmsNormRope(const torch::Tensor& y, const torch::Tensor& weight, double eps, int64_t heads,
                          const torch::Tensor* rope_cos, const torch::Tensor* rope_sin);

// RoPE alone in float32 on x: [N, heads, d] bf16/fp16 (any strides) -> a
// contiguous tensor of x's dtype; rows beyond rope_cos.size(0) unrotated.
torch::Tensor ApplyRopeF32(const torch::Tensor& x, const torch::Tensor& rope_cos, const torch::Tensor& rope_sin);

// GELU with the tanh approximation, in place on a contiguous bf16 or fp16
// tensor: x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), the same
// function as at::gelu(x, "tanh"), evaluated in float32 with a polynomial
// exp (relative error < 1e-6 before rounding) and rounded to x's dtype once:
// within one unit in the last place of the exact value. (LibTorch's float32
// formula 0.5 x (1 + tanh(u)) cancels for x < -3: it differs there in relative
// terms, by < 2e-5 absolute.) One vectorised pass (AVX-512 / AVX2 clones where
// the CPU has them, chosen by CPU feature). Returns x.
torch::Tensor GeluTanhInPlace(torch::Tensor& x);

// The block's residual update after a low-precision branch, in float32:
// x + float(y) * gate, or x + float(y) where `gate` is undefined.
// x: [B, L, C] float32 (GatedResidual: any float dtype, promoted to float32
// first, as addcmul promotes); y: [B, L, C] bf16 or fp16; gate: float32,
// broadcastable as [B, 1 or L, C]. Each element is at::addcmul(x,
// y.to(kFloat32), gate)'s value (the product rounded, then the sum), or the
// value with the two fused into one rounding where the CPU build has FMA.
// GatedResidual returns a new contiguous tensor; GatedResidualInPlace writes
// into x and returns it (a non-contiguous x: through LibTorch ops). Replaces
// y.to(kFloat32) and the addcmul/add (two passes and a float32 temporary of
// y) by one pass. Other devices: those LibTorch ops.
torch::Tensor GatedResidual(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate);
torch::Tensor& GatedResidualInPlace(torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate);

// The dtypes the blocks route to these kernels on the CPU: bfloat16 and float16
// (the float32 path keeps the official op order).
inline bool FusedKernelDtype(at::ScalarType dtype) { return dtype == at::kBFloat16 || dtype == at::kHalf; }

}  // namespace videogen::models

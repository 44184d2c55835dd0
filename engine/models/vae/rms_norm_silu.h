// The VAE's RMS_norm followed by SiLU as one CPU kernel: two passes over a
// channels-first float32 activation (the per-position sums of squares over the
// channels, then the output) where the LibTorch ops take six (norm, divide,
// two scalings, SiLU; each a full read and write of activations of up to
// ~600 MB per 4-frame chunk at 480x832).
#pragma once

#include <torch/types.h>

namespace videogen::models::vae {

// True when RmsNormSilu takes x: a contiguous float32 CPU tensor of >= 2 dims.
bool RmsNormSiluApplies(const torch::Tensor& x);

// silu(x / max(||x||_2 over dim 1, 1e-12) * scale * gamma[c] (+ bias[c])),
// silu(y) = y / (1 + exp(-y)), into a new tensor shaped like x ([B, C, ...]);
// gamma and bias hold C float32 values each (any shape; bias may be
// undefined). The official op order per element; the sums of squares run in
// another order than at::norm's and exp is vec::ExpClamped (relative error
// < 2e-7), so values agree with the ops to a few units in the last place. A
// NaN anywhere in a position's channels makes that position's outputs NaN.
// Parallel over positions (at::parallel_for). Precondition: RmsNormSiluApplies(x).
torch::Tensor RmsNormSilu(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& bias, double scale);

}  // namespace videogen::models::vae

// fp8 (e4m3fn) scaled GEMM through LibTorch's at::_scaled_mm, for benches:
// the GEMM a GPU with fp8 tensor cores (CUDA sm_89+) runs without up-casting
// the weight. Version-specific: scaled_gemm_torch24.cc for LibTorch >= 2.4
// (the signature with required scales and one output), scaled_gemm_none.cc
// before (Unimplemented). Chosen once in bench/quant/CMakeLists.txt.
#pragma once

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::bench {

// Operands quantised per tensor (scale = absmax / 448) on x's device.
struct ScaledGemmOperands {
  torch::Tensor x8;       // [M, K] e4m3fn, row-major
  torch::Tensor w8t;      // [K, N] e4m3fn, column-major (the [N, K] weight transposed)
  torch::Tensor x_scale;  // float32 scalar
  torch::Tensor w_scale;  // float32 scalar
};

// x [M, K], w [N, K] (a linear weight), floating, on one device; K and N
// multiples of 16. Unimplemented where this LibTorch has no _scaled_mm;
// InvalidArgument for shapes it cannot take.
absl::StatusOr<ScaledGemmOperands> PrepareScaledGemm(const torch::Tensor& x, const torch::Tensor& w);

// y = (x8 * x_scale) (w8t * w_scale) in bfloat16 [M, N]. Unimplemented as
// above; FailedPrecondition with LibTorch's message where the device has no
// such kernel (CPUs, CUDA before sm_89).
absl::StatusOr<torch::Tensor> RunScaledGemm(const ScaledGemmOperands& operands);

}  // namespace videogen::bench

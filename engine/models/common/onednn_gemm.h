// GEMMs from oneDNN's exported C API, for attention's QK^T and PV tiles, found
// by symbol lookup in the process (once, at the first use):
// - Bf16FloatGemm: bfloat16 x bfloat16 -> float32 (products exact, float32
//   accumulation and output), so the scores and the accumulator stay float32
//   while the GEMM runs at the bf16 rate. LibTorch has no such GEMM on the CPU
//   (1.13's bf16 mm rounds its output to bf16).
// - FloatGemm: float32 (dnnl_sgemm). At attention's tile shapes (256 x 1024 x
//   128, one tile per thread inside at::parallel_for) it runs 1.1-1.2x BLIS's
//   sgemm (measured with BLIS's skx kernels on Zen 5), and BLIS, asked for two
//   threads process-wide, pays for its nested-region check on every call.
// Debian's LibTorch links the system libdnnl (2.x on Debian 12, 3.x on 13),
// which exports both; the official LibTorch archives link oneDNN with hidden
// symbols, and there the *Available() functions are false and callers keep
// their LibTorch path. VIDEOGEN_BF16_FLOAT_GEMM=0 / VIDEOGEN_FLOAT_GEMM=0 in
// the environment at the first use turn one off (callers then take their
// LibTorch path), for comparison and as an escape.
#pragma once

#include <cstdint>

#include <c10/util/BFloat16.h>

namespace videogen::models {

// True when Bf16FloatGemm can run in this process. Thread-safe.
bool Bf16FloatGemmAvailable();

// Row-major C[m, n] = alpha * A[m, k] * op(B) + beta * C, with op(B) = B[k, n]
// or, with transpose_b, B[n, k]^T; lda/ldb/ldc are row strides in elements.
// beta = 0 ignores C's contents (NaN included). Runs on the calling thread
// when called inside a parallel region (at::parallel_for), on oneDNN's
// threads otherwise. Precondition: Bf16FloatGemmAvailable(); throws c10::Error
// otherwise or when oneDNN refuses the arguments. Thread-safe.
void Bf16FloatGemm(bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const c10::BFloat16* a, int64_t lda,
                   const c10::BFloat16* b, int64_t ldb, float beta, float* c, int64_t ldc);

// True when FloatGemm can run in this process. Thread-safe.
bool FloatGemmAvailable();

// Bf16FloatGemm's contract with float32 A and B.
void FloatGemm(bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace videogen::models

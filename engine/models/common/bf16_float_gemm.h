// A bfloat16 x bfloat16 -> float32 GEMM (products exact, float32 accumulation
// and output), for attention's QK^T and PV tiles: the scores and the
// accumulator stay float32 while the GEMM runs at the bf16 rate. LibTorch has
// no such GEMM on the CPU (1.13's bf16 mm rounds its output to bf16), so this
// uses oneDNN's exported dnnl_gemm_bf16bf16f32 where the process has it:
// Debian's LibTorch links the system libdnnl (2.x on Debian 12, 3.x on 13),
// which exports it; the official LibTorch archives link oneDNN with hidden
// symbols, and there Bf16FloatGemmAvailable() is false and callers keep their
// float32 path. Found once, at the first call, by symbol lookup in the process;
// VIDEOGEN_BF16_FLOAT_GEMM=0 in the environment at that moment turns it off
// (callers then take their float32 path), for comparison and as an escape.
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

}  // namespace videogen::models

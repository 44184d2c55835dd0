#include "engine/models/common/bf16_float_gemm.h"

#include <dlfcn.h>

#include <c10/util/Exception.h>

#include "engine/common/runtime.h"

namespace videogen::models {
namespace {

// oneDNN's `dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb,
// dnnl_dim_t M, N, K, float alpha, const bfloat16_t* A, dnnl_dim_t lda,
// const bfloat16_t* B, dnnl_dim_t ldb, float beta, float* C, dnnl_dim_t ldc)`:
// row-major, dnnl_dim_t is int64_t, bfloat16_t is 16 bits, dnnl_success is 0.
// The same in oneDNN 1.x to 3.x.
using DnnlGemmBf16Bf16F32 = int (*)(char, char, int64_t, int64_t, int64_t, float, const void*, int64_t, const void*,
                                    int64_t, float, float*, int64_t);

DnnlGemmBf16Bf16F32 Find() {
  static const DnnlGemmBf16Bf16F32 fn = [] {
    if (EnvTurnsOff("VIDEOGEN_BF16_FLOAT_GEMM")) return DnnlGemmBf16Bf16F32{nullptr};
    return reinterpret_cast<DnnlGemmBf16Bf16F32>(dlsym(RTLD_DEFAULT, "dnnl_gemm_bf16bf16f32"));
  }();
  return fn;
}

}  // namespace

bool Bf16FloatGemmAvailable() { return Find() != nullptr; }

void Bf16FloatGemm(bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const c10::BFloat16* a, int64_t lda,
                   const c10::BFloat16* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const DnnlGemmBf16Bf16F32 fn = Find();
  TORCH_CHECK(fn != nullptr, "Bf16FloatGemm: this process has no dnnl_gemm_bf16bf16f32 (oneDNN symbols hidden)");
  const int status = fn('N', transpose_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  TORCH_CHECK(status == 0, "Bf16FloatGemm: dnnl_gemm_bf16bf16f32 failed with status ", status, " (m=", m, " n=", n,
              " k=", k, " lda=", lda, " ldb=", ldb, " ldc=", ldc, ")");
}

}  // namespace videogen::models

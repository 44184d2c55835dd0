#include "engine/models/common/onednn_gemm.h"

#include <dlfcn.h>

#include <c10/util/Exception.h>

#include "engine/common/runtime.h"

namespace videogen::models {
namespace {

// oneDNN's `dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb,
// dnnl_dim_t M, N, K, float alpha, const bfloat16_t* A, dnnl_dim_t lda,
// const bfloat16_t* B, dnnl_dim_t ldb, float beta, float* C, dnnl_dim_t ldc)`
// and `dnnl_sgemm` (the same with float A and B): row-major, dnnl_dim_t is
// int64_t, bfloat16_t is 16 bits, dnnl_success is 0. The same in oneDNN 1.x to 3.x.
using DnnlGemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const void*, int64_t, const void*, int64_t,
                         float, float*, int64_t);

// The symbol `name`, or null when the process lacks it or `off_switch` is "0".
DnnlGemm Lookup(const char* name, const char* off_switch) {
  if (EnvTurnsOff(off_switch)) return nullptr;
  return reinterpret_cast<DnnlGemm>(dlsym(RTLD_DEFAULT, name));
}

DnnlGemm FindBf16() {
  static const DnnlGemm fn = Lookup("dnnl_gemm_bf16bf16f32", "VIDEOGEN_BF16_FLOAT_GEMM");
  return fn;
}

DnnlGemm FindFloat() {
  static const DnnlGemm fn = Lookup("dnnl_sgemm", "VIDEOGEN_FLOAT_GEMM");
  return fn;
}

void Run(DnnlGemm fn, const char* what, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const void* a,
         int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  TORCH_CHECK(fn != nullptr, what, ": this process has no such oneDNN symbol (hidden, or turned off)");
  const int status = fn('N', transpose_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  TORCH_CHECK(status == 0, what, " failed with status ", status, " (m=", m, " n=", n, " k=", k, " lda=", lda,
              " ldb=", ldb, " ldc=", ldc, ")");
}

}  // namespace

bool Bf16FloatGemmAvailable() { return FindBf16() != nullptr; }

void Bf16FloatGemm(bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const c10::BFloat16* a, int64_t lda,
                   const c10::BFloat16* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  Run(FindBf16(), "Bf16FloatGemm (dnnl_gemm_bf16bf16f32)", transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

bool FloatGemmAvailable() { return FindFloat() != nullptr; }

void FloatGemm(bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  Run(FindFloat(), "FloatGemm (dnnl_sgemm)", transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace videogen::models

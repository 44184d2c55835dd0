// LibTorch >= 2.4: at::_scaled_mm(a, b, scale_a, scale_b, bias, scale_result,
// out_dtype, use_fast_accum) -> Tensor.
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "bench/quant/scaled_gemm.h"

namespace videogen::bench {

namespace {

constexpr double kE4m3Max = 448.0;

// LibTorch's message up to its first line break (the dispatcher appends a
// list of every backend).
std::string FirstLine(const c10::Error& e) {
  const std::string what = e.what_without_backtrace();
  return what.substr(0, what.find('\n'));
}

// (codes, scale) with codes = x / scale saturated to the e4m3fn range.
std::pair<torch::Tensor, torch::Tensor> Quantize(const torch::Tensor& x) {
  const torch::Tensor f = x.to(torch::kFloat32);
  const torch::Tensor scale = (f.abs().max() / kE4m3Max).clamp_min(1e-12);
  const torch::Tensor codes = (f / scale).clamp(-kE4m3Max, kE4m3Max).to(at::kFloat8_e4m3fn);
  return {codes, scale};
}

}  // namespace

absl::StatusOr<ScaledGemmOperands> PrepareScaledGemm(const torch::Tensor& x, const torch::Tensor& w) {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1) || x.size(1) % 16 != 0 || w.size(0) % 16 != 0) {
    return absl::InvalidArgumentError("scaled GEMM: x [M, K] and w [N, K] with K and N multiples of 16");
  }
  try {
    ScaledGemmOperands op;
    std::tie(op.x8, op.x_scale) = Quantize(x);
    torch::Tensor w8;
    std::tie(w8, op.w_scale) = Quantize(w.to(x.device()));
    op.w8t = w8.t();  // [K, N], column-major: what the fp8 kernels take as the second operand
    return op;
  } catch (const c10::Error& e) {
    return absl::FailedPreconditionError(absl::StrCat("scaled GEMM: ", FirstLine(e)));
  }
}

absl::StatusOr<torch::Tensor> RunScaledGemm(const ScaledGemmOperands& op) {
  try {
    return at::_scaled_mm(op.x8, op.w8t, op.x_scale, op.w_scale, /*bias=*/std::nullopt,
                          /*scale_result=*/std::nullopt, /*out_dtype=*/at::kBFloat16, /*use_fast_accum=*/true);
  } catch (const c10::Error& e) {
    return absl::FailedPreconditionError(absl::StrCat("at::_scaled_mm: ", FirstLine(e)));
  }
}

}  // namespace videogen::bench

// LibTorch < 2.4: no at::_scaled_mm with this signature (and before 2.1 no fp8 dtype).
#include "absl/strings/str_cat.h"
#include "bench/quant/scaled_gemm.h"
#include "engine/common/torch_features.h"

namespace videogen::bench {

absl::StatusOr<ScaledGemmOperands> PrepareScaledGemm(const torch::Tensor&, const torch::Tensor&) {
  return absl::UnimplementedError(
      absl::StrCat("fp8 scaled GEMM needs LibTorch >= 2.4 (at::_scaled_mm); this is ", VIDEOGEN_TORCH_VERSION));
}

absl::StatusOr<torch::Tensor> RunScaledGemm(const ScaledGemmOperands&) {
  return absl::UnimplementedError("fp8 scaled GEMM needs LibTorch >= 2.4 (at::_scaled_mm)");
}

}  // namespace videogen::bench

// GPU test (label gpu): the fused DiT kernels' CUDA path (LibTorch ops) against
// their CPU path. Skips cleanly without a CUDA device.
#include <torch/cuda.h>
#include <torch/types.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/models/dit/fused_ops.h"
#include "engine/models/dit/rope.h"

namespace videogen::models {
namespace {

double MaxRelError(const torch::Tensor& got, const torch::Tensor& want) {
  const torch::Tensor w = want.to(torch::kCPU, torch::kFloat64);
  return ((got.to(torch::kCPU, torch::kFloat64) - w).abs().max() / w.abs().max()).item<double>();
}

TEST(FusedOpsCudaTest, CudaPathMatchesTheCpuPath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  torch::manual_seed(5);
  const torch::Tensor x = at::randn({2, 37, 64}) * 3 + 1;
  const torch::Tensor shift = at::randn({2, 1, 64}) * 0.1, scale = at::randn({2, 1, 64}) * 0.1;
  EXPECT_LT(MaxRelError(ModulatedLayerNorm(x.to(cuda), shift.to(cuda), scale.to(cuda), 1e-6, at::kBFloat16),
                        ModulatedLayerNorm(x, shift, scale, 1e-6, at::kBFloat16)),
            1e-2);
  const int64_t heads = 4, d = 24, len = 40;
  const RopeTables cpu_tables = MakeRopeTables(d, {5, 4, 2}, torch::kCPU);
  const RopeTables cuda_tables = MakeRopeTables(d, {5, 4, 2}, cuda);
  const torch::Tensor weight = at::rand({heads * d}).add(0.5).to(at::kBFloat16);
  const torch::Tensor y = (at::randn({len + 2, heads * d}) * 2).to(at::kBFloat16);
  EXPECT_LT(MaxRelError(RmsNormRope(y.to(cuda), weight.to(cuda), 1e-6, heads, &cuda_tables.cos_f32, &cuda_tables.sin_f32),
                        RmsNormRope(y, weight, 1e-6, heads, &cpu_tables.cos_f32, &cpu_tables.sin_f32)),
            1e-2);
  EXPECT_LT(MaxRelError(RmsNormRope(y.to(cuda), weight.to(cuda), 1e-6, heads, nullptr, nullptr),
                        RmsNormRope(y, weight, 1e-6, heads, nullptr, nullptr)),
            1e-2);
  const torch::Tensor r = at::randn({len, heads, d}).to(at::kBFloat16);
  EXPECT_LT(MaxRelError(ApplyRopeF32(r.to(cuda), cuda_tables.cos_f32, cuda_tables.sin_f32),
                        ApplyRopeF32(r, cpu_tables.cos_f32, cpu_tables.sin_f32)),
            1e-2);
}

}  // namespace
}  // namespace videogen::models

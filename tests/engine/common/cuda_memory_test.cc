// GPU test (label gpu): skipped cleanly without a CUDA device.
#include "engine/common/cuda_memory.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <gtest/gtest.h>

namespace videogen {
namespace {

TEST(CudaMemoryTest, ReportsTheDeviceAndThePeak) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Tensor block = torch::empty({64 << 20}, torch::TensorOptions().dtype(torch::kUInt8).device(torch::kCUDA));
  auto info = QueryCudaMemory(0);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GT(info->total, 0u);
  EXPECT_LE(info->used, info->total);
  EXPECT_GE(info->peak, uint64_t{64} << 20);
  EXPECT_GE(info->reserved, uint64_t{64} << 20);
  EXPECT_EQ(QueryCudaMemory(1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CudaMemoryTest, UnavailableWithoutCuda) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  const absl::StatusCode code = QueryCudaMemory(0).status().code();
  EXPECT_TRUE(code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kInvalidArgument) << code;
  ReleaseCudaCache();  // a no-op without CUDA
}

}  // namespace
}  // namespace videogen

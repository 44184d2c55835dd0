// PatchEmbed (the DiT's patch embedding as one GEMM) against the float32
// convolution it replaces, for the input channel counts of every Wan DiT:
// 16 (T2V), 36 (I2V / FLF2V, Wan2.1 and Wan2.2 A14B), 48 (TI2V-5B).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/conv.h>

#include "engine/models/dit/layers.h"

namespace videogen::models {
namespace {

double RelL2(const torch::Tensor& got, const torch::Tensor& want) {
  const torch::Tensor w = want.to(torch::kFloat64);
  return ((got.to(torch::kFloat64) - w).norm() / w.norm()).item<double>();
}

// conv(x) as tokens [f*h*w, dim], the layout PatchEmbed returns.
torch::Tensor ConvTokens(torch::nn::Conv3d& conv, const torch::Tensor& x) {
  return conv->forward(x.unsqueeze(0)).flatten(2).transpose(1, 2)[0];
}

TEST(PatchEmbedTest, EqualsTheConvolutionInFloat32) {
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  for (const int64_t channels : {int64_t{16}, int64_t{36}, int64_t{48}}) {
    torch::nn::Conv3d conv(torch::nn::Conv3dOptions(channels, 64, {1, 2, 2}).stride({1, 2, 2}));
    const torch::Tensor x = at::randn({channels, 3, 6, 10});
    const torch::Tensor got = PatchEmbed(*conv, x);
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{3 * 3 * 5, 64}));
    EXPECT_LT(RelL2(got, ConvTokens(conv, x)), 1e-6) << channels << " channels";
    // A non-contiguous input (a transposed view) gives the same tokens.
    const torch::Tensor strided = x.transpose(0, 1).contiguous().transpose(0, 1);
    ASSERT_FALSE(strided.is_contiguous());
    EXPECT_TRUE(torch::equal(PatchEmbed(*conv, strided), got)) << channels << " channels";
  }
}

// The bf16 weights' result stays within bf16 rounding of the float32
// convolution. LibTorch 2.6's own bf16 convolution fails this for 36 channels
// on the CPU (rel 0.29 or NaN), which is why PatchEmbed is a GEMM.
TEST(PatchEmbedTest, Bfloat16StaysWithinRoundingOfFloat32) {
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  for (const int64_t channels : {int64_t{16}, int64_t{36}, int64_t{48}}) {
    torch::nn::Conv3d conv(torch::nn::Conv3dOptions(channels, 64, {1, 2, 2}).stride({1, 2, 2}));
    const torch::Tensor x = at::randn({channels, 2, 8, 8});
    const torch::Tensor want = ConvTokens(conv, x);
    conv->to(torch::kBFloat16);
    const torch::Tensor got = PatchEmbed(*conv, x);
    ASSERT_EQ(got.scalar_type(), torch::kBFloat16);
    EXPECT_LT(RelL2(got, want), 1e-2) << channels << " channels";
  }
}

}  // namespace
}  // namespace videogen::models

// The fused RMS_norm + SiLU against the module's ops (RMSNormImpl::forward,
// then at::silu_): position counts off the kernel's block, with and without
// bias, an all-zero position (the norm's clamp), a NaN, and the fallback for
// inputs the kernel does not take.
#include "engine/models/vae/rms_norm_silu.h"

#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/models/vae/blocks.h"

namespace videogen::models::vae {
namespace {

at::Tensor Ops(RMSNorm& norm, const at::Tensor& x) {
  at::Tensor y = norm->forward(x);
  return at::silu_(y);
}

double RelMaxDiff(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(RmsNormSiluTest, MatchesTheOpsWithAndWithoutBias) {
  at::manual_seed(11);
  for (const bool bias : {false, true}) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{2, 37, 3, 5, 7}, std::vector<int64_t>{1, 16, 2, 20, 30}}) {
      RMSNorm norm(shape[1], /*images=*/false, bias);
      {
        torch::NoGradGuard no_grad;
        norm->gamma.normal_(1, 0.5);
        if (bias) norm->bias.normal_(0, 0.5);
      }
      at::Tensor x = at::randn(shape) * 3;
      x.select(2, 0).select(2, 1).select(2, 2).zero_();  // an all-zero position: the 1e-12 clamp, silu(0) = 0
      ASSERT_TRUE(RmsNormSiluApplies(x));
      torch::NoGradGuard no_grad;
      const at::Tensor expected = Ops(norm, x);
      const at::Tensor got = norm->ForwardSilu(x);
      EXPECT_EQ(got.sizes(), x.sizes());
      EXPECT_LT(RelMaxDiff(got, expected), 1e-6) << "bias " << bias << " shape " << x.sizes();
      const at::Tensor zero_position = got.select(2, 0).select(2, 1).select(2, 2);
      if (!bias) {
        EXPECT_TRUE(at::equal(zero_position, at::zeros_like(zero_position)));
      }
    }
  }
}

TEST(RmsNormSiluTest, ANanMakesItsPositionNanAndNoOther) {
  RMSNorm norm(4, /*images=*/false);
  at::Tensor x = at::randn({1, 4, 1, 2, 3});
  x[0][2][0][1][1] = std::numeric_limits<float>::quiet_NaN();
  torch::NoGradGuard no_grad;
  const at::Tensor got = norm->ForwardSilu(x);
  const at::Tensor nan = got.isnan();
  EXPECT_TRUE(nan.select(3, 1).select(3, 1).all().item<bool>());
  EXPECT_EQ(nan.sum().item<int64_t>(), 4);
}

// An empty batch (or no positions) gives an empty result, not a division by zero.
TEST(RmsNormSiluTest, EmptyInputsGiveEmptyResults) {
  RMSNorm norm(4, /*images=*/false);
  torch::NoGradGuard no_grad;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{0, 4, 2, 3, 3}, std::vector<int64_t>{1, 4, 0, 3, 3}}) {
    const at::Tensor x = at::zeros(shape);
    ASSERT_TRUE(RmsNormSiluApplies(x));
    EXPECT_EQ(norm->ForwardSilu(x).sizes(), x.sizes());
  }
}

TEST(RmsNormSiluTest, OtherInputsTakeTheOps) {
  RMSNorm norm(6, /*images=*/true);
  const at::Tensor x = at::randn({2, 5, 6, 4}).transpose(1, 2);  // [2, 6, 5, 4], not contiguous
  EXPECT_FALSE(RmsNormSiluApplies(x));
  EXPECT_FALSE(RmsNormSiluApplies(x.contiguous().to(at::kDouble)));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(at::allclose(norm->ForwardSilu(x), Ops(norm, x)));
}

}  // namespace
}  // namespace videogen::models::vae

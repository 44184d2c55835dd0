// TI2V request arithmetic: best_output_size, PIL's LANCZOS resize (the
// pipeline_ti2v golden checks its exact values; here its contracts), the
// frame-0 mask and the per-token timesteps.
#include "engine/pipeline/ti2v_conditioning.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::pipeline {
namespace {

TEST(Ti2vConditioningTest, BestOutputSizeFollowsTheReference) {
  // Values computed with wan.utils.utils.best_output_size.
  auto s = BestOutputSize(90, 50, 32, 32, 2048);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (std::pair<int64_t, int64_t>{64, 32}));
  s = BestOutputSize(1280, 704, 32, 32, 1280 * 704);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::pair<int64_t, int64_t>{1280, 704}));
  s = BestOutputSize(704, 1280, 32, 32, 1280 * 704);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::pair<int64_t, int64_t>{704, 1280}));
  const auto tiny = BestOutputSize(90, 50, 32, 32, 500);
  EXPECT_EQ(tiny.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tiny.status().message().find("max_area"), std::string::npos);
}

TEST(Ti2vConditioningTest, LanczosResizeKeepsFlatImagesAndCopiesUnchangedSizes) {
  const torch::Tensor flat = at::full({50, 90, 3}, 77, at::kByte);
  const torch::Tensor down = PilLanczosResize(flat, 64, 36);
  EXPECT_EQ(down.sizes(), (std::vector<int64_t>{36, 64, 3}));
  EXPECT_TRUE(at::all(down == 77).item<bool>());
  const torch::Tensor same = PilLanczosResize(flat, 90, 50);
  EXPECT_TRUE(at::equal(same, flat));
  EXPECT_NE(same.data_ptr(), flat.data_ptr());
}

TEST(Ti2vConditioningTest, FrameZeroTokensGetTimestepZeroAndPaddingGetsT) {
  LatentGeometry g;
  g.latent_t = 2;
  g.latent_h = 2;
  g.latent_w = 4;
  const torch::Tensor mask = LatentFrameZeroMask(48, g);
  const torch::Tensor t = PerTokenTimesteps(mask, at::tensor({850}, at::kLong), 6);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 6}));
  const std::vector<float> expected = {0, 0, 850, 850, 850, 850};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(t[0][i].item<float>(), expected[i]) << i;
  const torch::Tensor z = at::full({48, 1, 2, 4}, 3.0);
  const torch::Tensor latent = ImposeFirstFrame(at::zeros({48, 2, 2, 4}), z, mask);
  EXPECT_TRUE(at::all(latent.select(1, 0) == 3.0).item<bool>());
  EXPECT_TRUE(at::all(latent.select(1, 1) == 0.0).item<bool>());
}

}  // namespace
}  // namespace videogen::pipeline

#include "engine/pipeline/flf2v_conditioning.h"

#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace videogen::pipeline {
namespace {

torch::Tensor GoldenTensor(const std::string& file, const std::string& name) {
  return videogen::testing::ReadTensor(videogen::testing::GoldenDir() + "/" + file, name);
}

// [3, H, W] with distinct values, so crops are recognisable.
torch::Tensor Ramp(int64_t h, int64_t w) { return torch::arange(3 * h * w, torch::kFloat32).view({3, h, w}) + 1; }

TEST(Flf2vConditioningTest, GeometryNeeds81FramesAndNamesTheField) {
  // The fixture's 64x36 first frame with max_area 960: lat 2x4, seq_len 21*2*4/4.
  auto g = FirstLastFrameGeometry(64, 36, 960, 81);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->latent_t, 21);
  EXPECT_EQ(g->latent_h, 2);
  EXPECT_EQ(g->latent_w, 4);
  EXPECT_EQ(g->seq_len, 42);
  for (int64_t frames : {1, 5, 77, 85, 80}) {
    auto bad = FirstLastFrameGeometry(64, 36, 960, frames);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << frames;
    EXPECT_EQ(bad.status().message().rfind("num_frames: ", 0), 0u) << bad.status();
  }
  auto area = FirstLastFrameGeometry(64, 36, 10, 81);
  EXPECT_NE(area.status().message().find("max_area"), std::string::npos);
}

TEST(Flf2vConditioningTest, MaskMarksLatentFrameZeroAndTheLastFramesFourthChannel) {
  LatentGeometry g{81, 21, 2, 4, 42};
  const torch::Tensor msk = FirstLastFrameMask(g);
  ASSERT_EQ(msk.sizes(), torch::IntArrayRef({4, 21, 2, 4}));
  EXPECT_TRUE(at::equal(msk.select(1, 0), torch::ones({4, 2, 4})));
  for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(msk[c][20].abs().max().item<float>(), 0.0f) << c;
  EXPECT_TRUE(at::equal(msk[3][20], torch::ones({2, 4})));
  EXPECT_EQ(msk.slice(1, 1, 20).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(msk.sum().item<float>(), 4 * 8 + 8);
}

TEST(Flf2vConditioningTest, SameSizeLastFrameIsUnchanged) {
  const torch::Tensor last = Ramp(36, 64);
  EXPECT_TRUE(at::equal(CropLastFrame(last, 64, 36), last));
}

TEST(Flf2vConditioningTest, SmallerLastFrameIsZeroPaddedNotResized) {
  // First 64x36, last 48x48: r = max(64/48, 36/48) = 4/3, size = [64, 64]:
  // 8 zero rows/columns on each side.
  const torch::Tensor last = Ramp(48, 48);
  const torch::Tensor out = CropLastFrame(last, 64, 36);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({3, 64, 64}));
  EXPECT_TRUE(at::equal(out.slice(1, 8, 56).slice(2, 8, 56), last));
  EXPECT_EQ(out.slice(1, 0, 8).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(out.slice(1, 56).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(out.slice(2, 0, 8).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(out.slice(2, 56).abs().max().item<float>(), 0.0f);
}

TEST(Flf2vConditioningTest, CropSizeIsReadAsHeightWidth) {
  // First 36x64 (portrait), last 72x40: r = max(36/72, 64/40) = 1.6,
  // size = [round(72*1.6), round(40*1.6)] = [115, 64] read as (height 115,
  // width 64): rows padded 37 top / 38 bottom (75 = 115 - 40), then columns
  // cropped at left = round((72 - 64) / 2) = 4.
  const torch::Tensor last = Ramp(40, 72);
  const torch::Tensor out = CropLastFrame(last, 36, 64);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({3, 115, 64}));
  EXPECT_TRUE(at::equal(out.slice(1, 37, 77), last.slice(2, 4, 68)));
  EXPECT_EQ(out.slice(1, 0, 37).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(out.slice(1, 77).abs().max().item<float>(), 0.0f);
}

TEST(Flf2vConditioningTest, CropOffsetsRoundHalfToEven) {
  // First 50x40, last 103x103: r = 50/103, crop 50x50, offset round(53 / 2) =
  // round(26.5) = 26 (Python rounds half to even).
  const torch::Tensor last = Ramp(103, 103);
  const torch::Tensor out = CropLastFrame(last, 50, 40);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({3, 50, 50}));
  EXPECT_TRUE(at::equal(out, last.slice(1, 26, 76).slice(2, 26, 76)));
  // 105x105: round(55 / 2) = round(27.5) = 28.
  const torch::Tensor last2 = Ramp(105, 105);
  EXPECT_TRUE(at::equal(CropLastFrame(last2, 50, 40), last2.slice(1, 28, 78).slice(2, 28, 78)));
}

TEST(Flf2vConditioningTest, ConditionVideoHasFirstAndLastFramesResized) {
  LatentGeometry g{81, 21, 2, 4, 42};
  const torch::Tensor first = torch::rand({3, 10, 12}) * 2 - 1;
  const torch::Tensor last = torch::rand({3, 7, 9}) * 2 - 1;
  const torch::Tensor video = FirstLastConditionVideo(first, last, g);
  ASSERT_EQ(video.sizes(), torch::IntArrayRef({3, 81, 16, 32}));
  EXPECT_TRUE(at::equal(video.select(1, 0), ResizeToVideo(first, g)));
  EXPECT_TRUE(at::equal(video.select(1, 80), ResizeToVideo(last, g)));
  EXPECT_EQ(video.slice(1, 1, 80).abs().max().item<float>(), 0.0f);
}

TEST(Flf2vConditioningTest, InputsGiveClipBothFramesAfterTheCrop) {
  LatentGeometry g{81, 21, 2, 4, 42};
  const torch::Tensor first = torch::randint(0, 256, {36, 64, 3}).to(torch::kUInt8);
  const torch::Tensor last = torch::randint(0, 256, {48, 48, 3}).to(torch::kUInt8);
  const ImageConditionInputs in = FirstLastFrameConditionInputs(first, last, g);
  ASSERT_EQ(in.clip_images.size(), 2u);
  EXPECT_TRUE(at::equal(in.clip_images[0], ImageToTensor(first).unsqueeze(1)));
  EXPECT_TRUE(at::equal(in.clip_images[1], CropLastFrame(ImageToTensor(last), 64, 36).unsqueeze(1)));
  EXPECT_EQ(in.clip_images[1].sizes(), torch::IntArrayRef({3, 1, 64, 64}));
  EXPECT_TRUE(at::equal(in.mask, FirstLastFrameMask(g)));
  EXPECT_TRUE(at::equal(in.video.select(1, 80), ResizeToVideo(in.clip_images[1].squeeze(1), g)));
}

TEST(Flf2vConditioningTest, MatchesTheGoldenConditionVideoAndMask) {
  const torch::Tensor first = GoldenTensor("pipeline_flf2v/inputs.safetensors", "first_frame_u8");
  const torch::Tensor last = GoldenTensor("pipeline_flf2v/inputs.safetensors", "last_frame_u8");
  const torch::Tensor cond = GoldenTensor("pipeline_flf2v/outputs.safetensors", "vae_cond_video");
  const torch::Tensor y = GoldenTensor("pipeline_flf2v/outputs.safetensors", "y");
  ASSERT_TRUE(first.defined() && last.defined() && cond.defined() && y.defined());
  auto g = FirstLastFrameGeometry(first.size(1), first.size(0), 960, 81);
  ASSERT_TRUE(g.ok()) << g.status();
  const ImageConditionInputs in = FirstLastFrameConditionInputs(first, last, *g);
  ASSERT_EQ(in.video.sizes(), cond.sizes());
  EXPECT_LE((in.video - cond).abs().max().item<float>(), 2e-4f);
  EXPECT_TRUE(at::equal(in.mask, y.slice(0, 0, 4)));
}

}  // namespace
}  // namespace videogen::pipeline

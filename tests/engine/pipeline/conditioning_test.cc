#include "engine/pipeline/conditioning.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/io/safetensors.h"

namespace videogen::pipeline {
namespace {

std::string Golden(const std::string& rel) {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return (std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "../shared/golden") / rel).string();
}

torch::Tensor GoldenInput(const std::string& fixture, const std::string& name) {
  auto source = io::OpenSafetensors(Golden(fixture + "/inputs.safetensors"));
  EXPECT_TRUE(source.ok()) << source.status();
  auto t = (*source)->Read(name);
  EXPECT_TRUE(t.ok()) << t.status();
  return t->clone();
}

TEST(ConditioningTest, TextToVideoGeometryMatchesReference) {
  // generate(size=(48, 32), frame_num=5): latent (16, 2, 4, 6), seq_len ceil(4*6/4*2) = 12.
  auto g = TextToVideoGeometry(48, 32, 5);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->latent_t, 2);
  EXPECT_EQ(g->latent_h, 4);
  EXPECT_EQ(g->latent_w, 6);
  EXPECT_EQ(g->seq_len, 12);
  auto real = TextToVideoGeometry(832, 480, 81);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->seq_len, 32760);  // the 480p token count of the README
}

TEST(ConditioningTest, ImageToVideoGeometryMatchesReference) {
  // A 72x40 image with max_area 3072: lat_h = round(sqrt(3072*40/72)//8//2*2) = 4, lat_w = 8.
  auto g = ImageToVideoGeometry(72, 40, 3072, 5);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->latent_h, 4);
  EXPECT_EQ(g->latent_w, 8);
  EXPECT_EQ(g->seq_len, 16);
  // I2V-14B-480P at 832x480 with a 16:9 image.
  auto p480 = ImageToVideoGeometry(1280, 720, 832 * 480, 81);
  ASSERT_TRUE(p480.ok());
  EXPECT_EQ(p480->latent_h, 58);
  EXPECT_EQ(p480->latent_w, 104);
}

TEST(ConditioningTest, BadShapesNameTheField) {
  auto frames = TextToVideoGeometry(48, 32, 6);
  EXPECT_EQ(frames.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(frames.status().message().find("num_frames"), std::string::npos);
  auto width = TextToVideoGeometry(50, 32, 5);
  EXPECT_NE(width.status().message().find("width"), std::string::npos);
  auto height = TextToVideoGeometry(48, 0, 5);
  EXPECT_NE(height.status().message().find("height"), std::string::npos);
  auto area = ImageToVideoGeometry(72, 40, 10, 5);
  EXPECT_EQ(area.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(area.status().message().find("max_area"), std::string::npos);
}

TEST(ConditioningTest, SeededNoiseIsTheReferenceCpuGenerator) {
  // The fixtures' noise was drawn with torch.Generator('cpu').manual_seed(seed).
  const torch::Tensor t2v = GoldenInput("pipeline_t2v", "noise");
  LatentGeometry g{5, t2v.size(1), t2v.size(2), t2v.size(3), 0};
  EXPECT_TRUE(at::equal(SeededNoise(42, g), t2v));
  const torch::Tensor i2v = GoldenInput("pipeline_i2v", "noise");
  LatentGeometry gi{5, i2v.size(1), i2v.size(2), i2v.size(3), 0};
  EXPECT_TRUE(at::equal(SeededNoise(1234, gi), i2v));
  EXPECT_FALSE(at::equal(SeededNoise(43, g), t2v));
}

TEST(ConditioningTest, FirstFrameMaskAndConditionVideo) {
  LatentGeometry g{9, 3, 2, 4, 0};
  const torch::Tensor msk = FirstFrameMask(g);
  EXPECT_EQ(msk.sizes(), torch::IntArrayRef({4, 3, 2, 4}));
  EXPECT_EQ(msk.select(1, 0).min().item<float>(), 1.0f);
  EXPECT_EQ(msk.slice(1, 1).abs().max().item<float>(), 0.0f);
  const torch::Tensor image = torch::rand({3, 10, 12}) * 2 - 1;
  const torch::Tensor cond = ConditionVideo(image, g);
  EXPECT_EQ(cond.sizes(), torch::IntArrayRef({3, 9, 16, 32}));
  EXPECT_EQ(cond.slice(1, 1).abs().max().item<float>(), 0.0f);
}

TEST(ConditioningTest, FramesToUint8) {
  const torch::Tensor video = torch::tensor({-1.0f, 0.0f, 1.0f, 2.0f}).view({1, 1, 1, 4}).expand({3, 1, 1, 4});
  const torch::Tensor u8 = VideoToFramesU8(video);
  EXPECT_EQ(u8.sizes(), torch::IntArrayRef({1, 1, 4, 3}));
  EXPECT_EQ(u8[0][0][0][0].item<uint8_t>(), 0);
  EXPECT_EQ(u8[0][0][1][0].item<uint8_t>(), 128);
  EXPECT_EQ(u8[0][0][2][0].item<uint8_t>(), 255);
  EXPECT_EQ(u8[0][0][3][0].item<uint8_t>(), 255);
}

}  // namespace
}  // namespace videogen::pipeline

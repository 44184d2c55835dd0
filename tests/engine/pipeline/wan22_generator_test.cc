// The tiny Wan2.2 models through WanGenerator, loaded by the code real
// checkpoints use: the A14B expert pair (one switch, high-noise first, seen in
// the progress of every step), TI2V with and without an image, the defaults
// the descriptor gives, and the LoRA refusal for expert pairs.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/engine/pipeline/tiny_generator_fixture.h"

namespace videogen::pipeline {
namespace {

using Wan22GeneratorTest = TinyGeneratorTest;

TEST_F(Wan22GeneratorTest, T2VA14BSwitchesFromTheHighToTheLowNoiseExpertOnce) {
  auto gen = Load(ModelType::kT2V, /*pair=*/true);
  ASSERT_NE(gen, nullptr);
  const ModelDescription& d = gen->description();
  EXPECT_EQ(d.type, ModelType::kT2V);
  ASSERT_TRUE(d.defaults.guidance_scale_high_noise.has_value());
  EXPECT_DOUBLE_EQ(*d.defaults.guidance_scale_high_noise, 4.0);
  EXPECT_DOUBLE_EQ(d.defaults.guidance_scale, 3.0);
  EXPECT_DOUBLE_EQ(d.defaults.expert_boundary, 0.875);
  EXPECT_DOUBLE_EQ(d.defaults.shift, 12.0);
  bool low_noise_resident = false;
  for (const ResidentGroup& g : d.resident) low_noise_resident |= g.component == Component::kDitLowNoise && g.bytes > 0;
  EXPECT_TRUE(low_noise_resident);

  GenerationRequest r;
  r.prompt = "a sailboat";
  r.width = 64;
  r.height = 32;
  r.num_frames = 5;
  r.steps = 6;
  RecordingSink sink;
  CancelToken cancel;
  auto video = gen->Generate(r, &sink, cancel);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->frames, 5);
  const std::vector<Expert> experts = sink.StepExperts();
  ASSERT_EQ(experts.size(), 6u);
  int switches = 0;
  for (size_t i = 1; i < experts.size(); ++i) switches += experts[i] != experts[i - 1];
  EXPECT_EQ(switches, 1);
  EXPECT_EQ(experts.front(), Expert::kHighNoise);
  EXPECT_EQ(experts.back(), Expert::kLowNoise);
}

TEST_F(Wan22GeneratorTest, I2VA14BRunsWithoutClip) {
  auto gen = Load(ModelType::kI2V, /*pair=*/true);
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(gen->description().type, ModelType::kI2V);
  for (const ResidentGroup& g : gen->description().resident) EXPECT_NE(g.component, Component::kClip);
  GenerationRequest r;
  r.prompt = "a fox";
  r.image = Image(72, 40);
  r.max_area = 64 * 32;
  r.num_frames = 5;
  r.steps = 3;
  CancelToken cancel;
  RecordingSink sink;
  auto video = gen->Generate(r, &sink, cancel);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->frames, 5);
  EXPECT_EQ(sink.StepExperts().front(), Expert::kHighNoise);
  r.image.reset();
  EXPECT_EQ(gen->Validate(r).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(Wan22GeneratorTest, TI2VTakesAnOptionalImageAndThirtyTwoPixelSizes) {
  auto gen = Load(ModelType::kTI2V, /*pair=*/false);
  ASSERT_NE(gen, nullptr);
  const ModelDescription& d = gen->description();
  EXPECT_EQ(d.type, ModelType::kTI2V);
  EXPECT_FALSE(d.defaults.guidance_scale_high_noise.has_value());
  EXPECT_DOUBLE_EQ(d.defaults.fps, 24.0);

  GenerationRequest text;
  text.prompt = "a kingfisher";
  text.width = 64;
  text.height = 32;
  text.num_frames = 5;
  text.steps = 2;
  CancelToken cancel;
  auto video = gen->Generate(text, nullptr, cancel);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->width, 64);
  EXPECT_EQ(video->height, 32);
  EXPECT_DOUBLE_EQ(video->fps, 24.0);

  // 48 is a multiple of 16 but not of the Wan2.2 VAE stride x patch (32).
  GenerationRequest odd = text;
  odd.width = 48;
  const absl::Status s = gen->Validate(odd);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("width"), std::string::npos) << s;

  // With an image: best_output_size(90, 50, 32, 32, 2048) = 64x32, the image latent on frame 0.
  GenerationRequest with_image = text;
  with_image.width.reset();
  with_image.height.reset();
  with_image.image = Image(90, 50);
  with_image.max_area = 2048;
  RecordingSink sink;
  video = gen->Generate(with_image, &sink, cancel);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->width, 64);
  EXPECT_EQ(video->height, 32);
  bool image_encoded = false;
  for (const ProgressUpdate& u : sink.updates) image_encoded |= u.stage == Stage::kImageEncoding;
  EXPECT_TRUE(image_encoded);
  for (Expert e : sink.StepExperts()) EXPECT_EQ(e, Expert::kSingle);
}

TEST_F(Wan22GeneratorTest, ExpertPairsRefuseLorasNamingTheField) {
  ModelLoadOptions options;
  options.model_dir = Dir(ModelType::kT2V, /*pair=*/true);
  options.loras.push_back({"/nonexistent.safetensors", 1.0});
  auto gen = WanGenerator::Create(options);
  ASSERT_FALSE(gen.ok());
  EXPECT_EQ(gen.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(gen.status().message().find("loras"), std::string::npos) << gen.status();
}

}  // namespace
}  // namespace videogen::pipeline

// The tiny Wan2.2 models through WanGenerator, loaded by the code real
// checkpoints use: the A14B expert pair (one switch, high-noise first, seen in
// the progress of every step), TI2V with and without an image, the defaults
// the descriptor gives, and LoRAs per expert.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/io/safetensors.h"
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

  const GenerationRequest r = ExpertPairRequest();
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

// Wan2.2 LoRAs come per expert: `loras` merge into the high-noise expert,
// `loras_low_noise` into the low-noise one; each changes the video. Per-request
// adapters are refused for pairs, low-noise LoRAs for one-DiT models.
TEST_F(Wan22GeneratorTest, LorasMergePerExpert) {
  const std::string dir = Dir(ModelType::kT2V, /*pair=*/true);
  auto header = io::ReadSafetensorsHeader(dir + "/high_noise_model/diffusion_pytorch_model.safetensors");
  ASSERT_TRUE(header.ok()) << header.status();
  std::vector<int64_t> q;
  for (const io::TensorInfo& info : *header) {
    if (info.name == "blocks.0.self_attn.q.weight") q = info.shape;
  }
  ASSERT_EQ(q.size(), 2u);
  const std::string lora = dir + "/../expert_lora.safetensors";
  ASSERT_TRUE(io::WriteSafetensors(lora, {{"diffusion_model.blocks.0.self_attn.q.lora_down.weight",
                                           torch::ones({2, q[1]}) * 0.05},
                                          {"diffusion_model.blocks.0.self_attn.q.lora_up.weight",
                                           torch::ones({q[0], 2}) * 0.05}})
                  .ok());
  auto generate = [&](std::vector<lora::LoraFileSpec> high, std::vector<lora::LoraFileSpec> low) {
    ModelLoadOptions options;
    options.model_dir = dir;
    options.loras = std::move(high);
    options.loras_low_noise = std::move(low);
    auto gen = WanGenerator::Create(options);
    EXPECT_TRUE(gen.ok()) << gen.status();
    if (!gen.ok()) return std::vector<uint8_t>{};
    GenerationRequest r;
    r.prompt = "waves";
    r.width = 32;
    r.height = 32;
    r.num_frames = 1;
    r.steps = 4;
    r.seed = 5;
    CancelToken cancel;
    auto v = (*gen)->Generate(r, nullptr, cancel);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->rgb : std::vector<uint8_t>{};
  };
  const std::vector<uint8_t> base = generate({}, {});
  ASSERT_FALSE(base.empty());
  const std::vector<uint8_t> high = generate({{lora, 1.0}}, {});
  const std::vector<uint8_t> low = generate({}, {{lora, 1.0}});
  EXPECT_NE(high, base);
  EXPECT_NE(low, base);
  EXPECT_NE(high, low);

  ModelLoadOptions adapters;
  adapters.model_dir = dir;
  adapters.adapters.push_back({"style", lora});
  auto refused = WanGenerator::Create(adapters);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("adapters"), std::string::npos) << refused.status();
  ModelLoadOptions single;
  single.model_dir = Dir(ModelType::kTI2V);
  single.loras_low_noise = {{lora, 1.0}};
  refused = WanGenerator::Create(single);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("lora_low_noise"), std::string::npos) << refused.status();
}

}  // namespace
}  // namespace videogen::pipeline

#include "engine/pipeline/wan_generator.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/io/safetensors.h"
#include "engine/pipeline/tiny_model.h"
#include "tests/engine/pipeline/tiny_generator_fixture.h"

namespace videogen::pipeline {
namespace {

namespace fs = std::filesystem;

class GeneratorTest : public TinyGeneratorTest {
 protected:
  // The smallest t2v request: one 32x32 frame, `steps` steps.
  static GenerationRequest OneFrame(int steps) {
    GenerationRequest r;
    r.prompt = "waves";
    r.width = 32;
    r.height = 32;
    r.num_frames = 1;
    r.steps = steps;
    return r;
  }
};

TEST_F(GeneratorTest, TextToVideoRunsAndIsDeterministic) {
  auto gen = Load(ModelType::kT2V);
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(gen->description().type, ModelType::kT2V);
  EXPECT_EQ(gen->description().variant, "tiny");
  EXPECT_FALSE(gen->description().resident.empty());
  GenerationRequest r;
  r.prompt = "a cat walks";
  r.width = 64;
  r.height = 32;
  r.num_frames = 5;
  r.steps = 2;
  r.seed = 7;
  RecordingSink sink;
  CancelToken cancel;
  auto a = gen->Generate(r, &sink, cancel);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->frames, 5);
  EXPECT_EQ(a->width, 64);
  EXPECT_EQ(a->height, 32);
  EXPECT_EQ(a->rgb.size(), 5u * 32 * 64 * 3);
  // Stages in order; denoising steps 0..2.
  std::vector<int> denoise_steps;
  for (const ProgressUpdate& u : sink.updates) {
    if (u.stage == Stage::kDenoising) denoise_steps.push_back(u.step);
  }
  EXPECT_EQ(denoise_steps, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(sink.updates.front().stage, Stage::kTextEncoding);
  EXPECT_EQ(sink.updates.back().stage, Stage::kVaeDecoding);
  auto b = gen->Generate(r, nullptr, cancel);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->rgb, b->rgb);
  r.seed = 8;
  auto c = gen->Generate(r, nullptr, cancel);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->rgb, c->rgb);
}

TEST_F(GeneratorTest, ImageToVideoFollowsTheImageAspect) {
  auto gen = Load(ModelType::kI2V);
  ASSERT_NE(gen, nullptr);
  GenerationRequest r;
  r.prompt = "the camera pans";
  r.image = Image(96, 48);
  r.max_area = 64 * 32;
  r.num_frames = 5;
  r.steps = 2;
  CancelToken cancel;
  auto v = gen->Generate(r, nullptr, cancel);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->width, 64);
  EXPECT_EQ(v->height, 32);
  EXPECT_EQ(v->frames, 5);
}

TEST_F(GeneratorTest, ValidationNamesTheField) {
  auto t2v = Load(ModelType::kT2V);
  auto i2v = Load(ModelType::kI2V);
  ASSERT_TRUE(t2v && i2v);
  auto expect = [](const absl::Status& s, const std::string& field) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find(field), std::string::npos) << s;
  };
  GenerationRequest r;
  r.num_frames = 6;
  expect(t2v->Validate(r), "num_frames");
  r = {};
  r.width = 100;
  expect(t2v->Validate(r), "width");
  r = {};
  r.steps = 0;
  expect(t2v->Validate(r), "steps");
  r = {};
  r.guidance_scale = std::nan("");
  expect(t2v->Validate(r), "guidance_scale");
  r = {};
  r.shift = -1;
  expect(t2v->Validate(r), "shift");
  r = {};
  r.image = Image(8, 8);
  expect(t2v->Validate(r), "image");
  expect(i2v->Validate(GenerationRequest{}), "image");
}

TEST_F(GeneratorTest, DescribesItsMemoryPlan) {
  auto gen = Load(ModelType::kI2V);
  ASSERT_NE(gen, nullptr);
  const PlanSummary& plan = gen->description().plan;
  EXPECT_EQ(plan.offload_mode, OffloadMode::kNone);
  ASSERT_EQ(plan.predicted_peak.count(Device::Cpu()), 1u);
  // Resident weights are part of the predicted host peak.
  uint64_t resident = 0;
  for (const ResidentGroup& g : gen->description().resident) resident += g.bytes;
  EXPECT_GT(plan.predicted_peak.at(Device::Cpu()), resident);
  EXPECT_NE(plan.summary.find("dit"), std::string::npos) << plan.summary;
}

TEST_F(GeneratorTest, RefusesBeforeLoadingWhenTheHostBudgetIsTooSmall) {
  TinyModelOptions tiny;
  auto dir = EnsureTinyModel(*cache_, tiny);
  ASSERT_TRUE(dir.ok());
  ModelLoadOptions options;
  options.model_dir = *dir;
  options.load.host_memory = 1 << 20;  // 1 MiB
  auto gen = WanGenerator::Create(options);
  EXPECT_EQ(gen.status().code(), absl::StatusCode::kFailedPrecondition) << gen.status();
  EXPECT_NE(gen.status().message().find("host"), std::string::npos) << gen.status();
}

// Host memory held outside the components (per-request adapters) comes off
// the host budget before planning.
TEST_F(GeneratorTest, ReservedHostBytesComeOffTheBudget) {
  TinyModelOptions tiny;
  auto dir = EnsureTinyModel(*cache_, tiny);
  ASSERT_TRUE(dir.ok());
  ModelLoadOptions options;
  options.model_dir = *dir;
  options.load.host_memory = uint64_t{64} << 30;
  ASSERT_TRUE(WanGenerator::Create(options).ok());
  options.load.reserved_host_bytes = options.load.host_memory - (1 << 20);
  auto gen = WanGenerator::Create(options);
  EXPECT_EQ(gen.status().code(), absl::StatusCode::kFailedPrecondition) << gen.status();
  EXPECT_NE(gen.status().message().find("host"), std::string::npos) << gen.status();
}

TEST_F(GeneratorTest, PlacementOverridesThePlan) {
  TinyModelOptions tiny;
  tiny.type = ModelType::kT2V;
  auto dir = EnsureTinyModel(*cache_, tiny);
  ASSERT_TRUE(dir.ok());
  ModelLoadOptions options;
  options.model_dir = *dir;
  auto placement = memory::ParsePlacement("dit=cpu:fp8,t5=cpu:fp32,vae=cpu:bf16");
  ASSERT_TRUE(placement.ok());
  options.load.placement = *placement;
  auto gen = WanGenerator::Create(options);
  ASSERT_TRUE(gen.ok()) << gen.status();
  std::map<std::string, uint64_t> dtypes;
  for (const ResidentGroup& g : (*gen)->description().resident) {
    dtypes[std::string(ComponentName(g.component)) + "/" + StorageDTypeName(g.dtype)] += g.bytes;
  }
  EXPECT_GT(dtypes["dit/fp8_e4m3fn"], 0u);
  EXPECT_GT(dtypes["t5/fp32"], 0u);
  EXPECT_EQ(dtypes.count("t5/bf16"), 0u);
  EXPECT_GT(dtypes["vae/bf16"], 0u);  // the causal convolutions (WanVaeOptions::conv_dtype)
  EXPECT_GT(dtypes["vae/fp32"], 0u);  // the rest stays float32
  CancelToken cancel;
  EXPECT_TRUE((*gen)->Generate(OneFrame(1), nullptr, cancel).ok());
  options.load.placement = *memory::ParsePlacement("clip=cpu:fp16");
  EXPECT_EQ(WanGenerator::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// --lora: merged into the DiT while it streams in; strength 0 changes nothing.
TEST_F(GeneratorTest, LoraMergedAtLoadChangesTheOutputByItsStrength) {
  TinyModelOptions tiny;
  tiny.type = ModelType::kT2V;
  auto dir = EnsureTinyModel(*cache_, tiny);
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto header = io::ReadSafetensorsHeader(*dir + "/diffusion_pytorch_model.safetensors");
  ASSERT_TRUE(header.ok()) << header.status();
  std::vector<int64_t> q_shape;
  for (const io::TensorInfo& info : *header) {
    if (info.name == "blocks.0.self_attn.q.weight") q_shape = info.shape;
  }
  ASSERT_EQ(q_shape.size(), 2u);
  const std::string lora = *cache_ + "/lora.safetensors";
  ASSERT_TRUE(io::WriteSafetensors(lora, {{"diffusion_model.blocks.0.self_attn.q.lora_down.weight",
                                           torch::ones({2, q_shape[1]}) * 0.05},
                                          {"diffusion_model.blocks.0.self_attn.q.lora_up.weight",
                                           torch::ones({q_shape[0], 2}) * 0.05}})
                  .ok());
  auto generate = [&](std::vector<lora::LoraFileSpec> loras) -> std::vector<uint8_t> {
    ModelLoadOptions options;
    options.model_dir = *dir;
    options.loras = std::move(loras);
    auto gen = WanGenerator::Create(options);
    EXPECT_TRUE(gen.ok()) << gen.status();
    if (!gen.ok()) return {};
    GenerationRequest r = OneFrame(2);
    r.seed = 3;
    CancelToken cancel;
    auto v = (*gen)->Generate(r, nullptr, cancel);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->rgb : std::vector<uint8_t>{};
  };
  const std::vector<uint8_t> base = generate({});
  ASSERT_FALSE(base.empty());
  EXPECT_EQ(generate({{lora, 0.0}}), base);
  EXPECT_NE(generate({{lora, 1.0}}), base);

  // A key that maps to no module of the model is refused, naming it.
  const std::string bad = *cache_ + "/bad_lora.safetensors";
  ASSERT_TRUE(io::WriteSafetensors(bad, {{"diffusion_model.blocks.0.self_attn.nope.lora_down.weight",
                                          torch::ones({2, q_shape[1]})}})
                  .ok());
  ModelLoadOptions options;
  options.model_dir = *dir;
  options.loras = {{bad, 1.0}};
  auto refused = WanGenerator::Create(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("blocks.0.self_attn.nope"), std::string::npos) << refused.status();
}

// Few-step sampling: explicit timesteps imply the step-distill sampler and
// one step each; guidance 1 is a single DiT pass per step.
TEST_F(GeneratorTest, ExplicitTimestepsRunTheFewStepSampler) {
  auto gen = Load(ModelType::kT2V);
  ASSERT_NE(gen, nullptr);
  GenerationRequest r = OneFrame(0);
  r.steps.reset();
  r.timesteps = {1000, 750, 500, 250};
  r.guidance_scale = 1.0;
  r.shift = 5.0;
  RecordingSink sink;
  CancelToken cancel;
  auto v = gen->Generate(r, &sink, cancel);
  ASSERT_TRUE(v.ok()) << v.status();
  int denoise_total = 0;
  for (const ProgressUpdate& u : sink.updates) {
    if (u.stage == Stage::kDenoising) denoise_total = u.total_steps;
  }
  EXPECT_EQ(denoise_total, 4);

  auto expect = [](const absl::Status& s, const std::string& field) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(std::string(s.message()).rfind(field + ":", 0), 0u) << s;
  };
  GenerationRequest bad = r;
  bad.timesteps = {250, 500};
  expect(gen->Validate(bad), "timesteps");
  bad = r;
  bad.steps = 3;
  expect(gen->Validate(bad), "steps");
  bad = r;
  bad.sampler = Sampler::kUniPC;
  expect(gen->Validate(bad), "timesteps");
}

TEST_F(GeneratorTest, CancelledBeforeDenoising) {
  auto gen = Load(ModelType::kT2V);
  ASSERT_NE(gen, nullptr);
  GenerationRequest r = OneFrame(3);
  CancelToken cancel;
  cancel.Cancel();
  auto v = gen->Generate(r, nullptr, cancel);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kCancelled) << v.status();
}

}  // namespace
}  // namespace videogen::pipeline

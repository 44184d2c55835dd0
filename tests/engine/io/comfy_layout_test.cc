// ComfyUI single files: the T5 name mapping, header classification, and
// loading renamed golden weights into the real modules (T5, DiT, VAE).
#include "engine/io/comfy_layout.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "engine/models/clip/clip_visual.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/models/vae/wan_vae.h"
#include "tests/engine/io/comfy_test_util.h"

namespace videogen::io {
namespace {

namespace fs = std::filesystem;
using test_util::GoldenDir;

nlohmann::json FixtureConfig(const std::string& fixture) {
  std::ifstream in(GoldenDir() + "/" + fixture + "/fixture.json");
  EXPECT_TRUE(in) << fixture;
  return nlohmann::json::parse(in).at("config");
}

class ComfyLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vg_comfy_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

void ExpectInvalidMentioning(const absl::Status& status, const std::string& text) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(std::string(status.message()).find(text), std::string::npos)
      << "message lacks '" << text << "': " << status.message();
}

TEST(T5OfficialNameTest, MapsHfUmT5Names) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"shared.weight", "token_embedding.weight"},
      {"encoder.final_layer_norm.weight", "norm.weight"},
      {"encoder.block.0.layer.0.SelfAttention.q.weight", "blocks.0.attn.q.weight"},
      {"encoder.block.23.layer.0.SelfAttention.o.weight", "blocks.23.attn.o.weight"},
      {"encoder.block.5.layer.0.SelfAttention.relative_attention_bias.weight",
       "blocks.5.pos_embedding.embedding.weight"},
      {"encoder.block.1.layer.0.layer_norm.weight", "blocks.1.norm1.weight"},
      {"encoder.block.1.layer.1.layer_norm.weight", "blocks.1.norm2.weight"},
      // HF: wo(gelu(wi_0 x) * wi_1 x); official: fc2(fc1(x) * gate(x)), gate = [Linear, GELU].
      {"encoder.block.2.layer.1.DenseReluDense.wi_0.weight", "blocks.2.ffn.gate.0.weight"},
      {"encoder.block.2.layer.1.DenseReluDense.wi_1.weight", "blocks.2.ffn.fc1.weight"},
      {"encoder.block.2.layer.1.DenseReluDense.wo.weight", "blocks.2.ffn.fc2.weight"},
      {"encoder.block.2.layer.0.SelfAttention.q.scale_weight", "blocks.2.attn.q.scale_weight"},
      {"scaled_fp8", "scaled_fp8"},
      // Official names pass through.
      {"blocks.0.ffn.gate.0.weight", "blocks.0.ffn.gate.0.weight"},
      {"token_embedding.weight", "token_embedding.weight"},
  };
  for (const auto& [hf, official] : cases) {
    const std::optional<std::string> mapped = T5OfficialName(hf);
    ASSERT_TRUE(mapped.has_value()) << hf;
    EXPECT_EQ(*mapped, official) << hf;
  }
  for (const char* dropped : {"decoder.block.0.layer.0.SelfAttention.q.weight", "lm_head.weight",
                              "encoder.embed_tokens.weight", "spiece_model",
                              "encoder.block.0.layer.2.DenseReluDense.wi.weight", "encoder.block.x.layer.0.layer_norm.weight"}) {
    EXPECT_FALSE(T5OfficialName(dropped).has_value()) << dropped;
  }
}

TEST(ClipOfficialNameTest, MapsHfClipVisionNames) {
  EXPECT_EQ(ClipOfficialName("vision_model.encoder.layers.3.mlp.fc1.weight"), "visual.transformer.3.mlp.0.weight");
  EXPECT_EQ(ClipOfficialName("vision_model.encoder.layers.0.mlp.fc2.bias"), "visual.transformer.0.mlp.2.bias");
  EXPECT_EQ(ClipOfficialName("vision_model.encoder.layers.31.self_attn.out_proj.weight"),
            "visual.transformer.31.attn.proj.weight");
  EXPECT_EQ(ClipOfficialName("vision_model.encoder.layers.1.layer_norm2.bias"), "visual.transformer.1.norm2.bias");
  EXPECT_EQ(ClipOfficialName("vision_model.pre_layrnorm.weight"), "visual.pre_norm.weight");
  EXPECT_EQ(ClipOfficialName("vision_model.post_layernorm.bias"), "visual.post_norm.bias");
  EXPECT_EQ(ClipOfficialName("vision_model.embeddings.patch_embedding.weight"), "visual.patch_embedding.weight");
  // Fused or reshaped (derived), or unused.
  for (const char* name : {"vision_model.encoder.layers.0.self_attn.q_proj.weight",
                           "vision_model.embeddings.class_embedding", "vision_model.embeddings.position_ids",
                           "visual_projection.weight"}) {
    EXPECT_FALSE(ClipOfficialName(name).has_value()) << name;
  }
}

TEST_F(ComfyLayoutTest, HfT5LoadsIntoTheEncoderWithIdenticalOutputs) {
  const std::string official = GoldenDir() + "/t5_encoder/weights.safetensors";
  test_util::WriteHfT5(official, Path("umt5_xxl_fp16.safetensors"));
  auto config = models::T5Config::FromJson(FixtureConfig("t5_encoder"));
  ASSERT_TRUE(config.ok()) << config.status();

  auto comfy = OpenComfyCheckpoint(Path("umt5_xxl_fp16.safetensors"), ComfyComponent::kT5);
  ASSERT_TRUE(comfy.ok()) << comfy.status();
  EXPECT_NE((*comfy)->Find("blocks.1.ffn.gate.0.weight"), nullptr);
  EXPECT_EQ((*comfy)->Find("lm_head.weight"), nullptr);
  auto from_comfy = models::LoadT5Encoder(*config, **comfy);
  ASSERT_TRUE(from_comfy.ok()) << from_comfy.status();
  auto official_source = OpenCheckpoint(official);
  ASSERT_TRUE(official_source.ok());
  auto from_official = models::LoadT5Encoder(*config, **official_source);
  ASSERT_TRUE(from_official.ok()) << from_official.status();

  auto inputs = OpenSafetensors(GoldenDir() + "/t5_encoder/inputs.safetensors");
  ASSERT_TRUE(inputs.ok());
  const torch::Tensor ids = *(*inputs)->Read("ids"), mask = *(*inputs)->Read("mask");
  c10::InferenceMode guard;
  const torch::Tensor a = (*from_official)->forward(ids, mask);
  const torch::Tensor b = (*from_comfy)->forward(ids, mask);
  EXPECT_TRUE(at::equal(a, b));

  // Swapping wi_0 and wi_1 (the direction the mapping must get right) changes the output.
  std::map<std::string, torch::Tensor> swapped = test_util::ReadAll(official);
  std::swap(swapped.at("blocks.0.ffn.gate.0.weight"), swapped.at("blocks.0.ffn.fc1.weight"));
  test_util::WriteRenamed(Path("swapped.safetensors"), swapped, test_util::HfT5Name);
  auto swapped_source = OpenComfyCheckpoint(Path("swapped.safetensors"), ComfyComponent::kT5);
  ASSERT_TRUE(swapped_source.ok());
  auto from_swapped = models::LoadT5Encoder(*config, **swapped_source);
  ASSERT_TRUE(from_swapped.ok());
  EXPECT_FALSE(at::allclose((*from_swapped)->forward(ids, mask), a));
}

TEST_F(ComfyLayoutTest, EmbedTokensStandsInForMissingShared) {
  std::map<std::string, torch::Tensor> t5 = test_util::ReadAll(GoldenDir() + "/t5_encoder/weights.safetensors");
  test_util::WriteRenamed(Path("t5.safetensors"), t5, [](const std::string& name) {
    return name == "token_embedding.weight" ? std::string("encoder.embed_tokens.weight") : test_util::HfT5Name(name);
  });
  auto source = OpenComfyCheckpoint(Path("t5.safetensors"), ComfyComponent::kT5);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_NE((*source)->Find("token_embedding.weight"), nullptr);
  auto read = (*source)->Read("token_embedding.weight");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(at::equal(*read, t5.at("token_embedding.weight")));
}

TEST_F(ComfyLayoutTest, ScaledFp8T5IsRefused) {
  std::map<std::string, torch::Tensor> t5 = test_util::ReadAll(GoldenDir() + "/t5_encoder/weights.safetensors");
  test_util::WriteRenamed(Path("umt5_xxl_fp8_e4m3fn_scaled.safetensors"), t5, test_util::HfT5Name,
                          {NamedTensor{"encoder.block.0.layer.0.SelfAttention.q.scale_weight",
                                       at::ones({}, at::kFloat), std::nullopt},
                           NamedTensor{"scaled_fp8", at::zeros({0}, at::kFloat), std::nullopt}});
  ExpectInvalidMentioning(
      OpenComfyCheckpoint(Path("umt5_xxl_fp8_e4m3fn_scaled.safetensors"), ComfyComponent::kT5).status(),
      "scale_weight");
}

TEST_F(ComfyLayoutTest, PrefixedDitLoadsIntoWanModelWithIdenticalParameters) {
  const std::string official = GoldenDir() + "/dit_t2v/weights.safetensors";
  const std::map<std::string, torch::Tensor> dit = test_util::ReadAll(official);
  ASSERT_FALSE(dit.empty());
  test_util::WriteRenamed(Path("wan2.1_t2v_tiny_fp32.safetensors"), dit,
                          [](const std::string& n) { return "model.diffusion_model." + n; });
  auto config = models::WanConfig::FromJson(FixtureConfig("dit_t2v"));
  ASSERT_TRUE(config.ok()) << config.status();

  auto source = OpenComfyCheckpoint(Path("wan2.1_t2v_tiny_fp32.safetensors"), ComfyComponent::kDit);
  ASSERT_TRUE(source.ok()) << source.status();
  models::WanModel a(*config), b(*config);
  ASSERT_TRUE(models::LoadStateDict(*a, **source).ok());
  auto official_source = OpenCheckpoint(official);
  ASSERT_TRUE(official_source.ok());
  ASSERT_TRUE(models::LoadStateDict(*b, **official_source).ok());
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(at::equal(item.value(), pb[item.key()])) << item.key();

  // Unprefixed official names in a single file are accepted as they are.
  auto plain = OpenComfyCheckpoint(official, ComfyComponent::kDit);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_NE((*plain)->Find("patch_embedding.weight"), nullptr);
}

TEST_F(ComfyLayoutTest, DitPrefixStripKeepsTheScaledFp8MarkerAndScales) {
  const absl::Status written = WriteSafetensors(Path("wan2.1_fp8_scaled.safetensors"),
                   {NamedTensor{"model.diffusion_model.patch_embedding.weight", at::ones({4, 16, 1, 2, 2}), {}},
                    NamedTensor{"model.diffusion_model.blocks.0.self_attn.q.weight", at::ones({4, 4}), {}},
                    NamedTensor{"model.diffusion_model.blocks.0.self_attn.q.scale_weight", at::full({}, 0.5), {}},
                    NamedTensor{"scaled_fp8", at::zeros({0}), {}}});
  ASSERT_TRUE(written.ok()) << written;
  auto source = OpenComfyCheckpoint(Path("wan2.1_fp8_scaled.safetensors"), ComfyComponent::kDit);
  ASSERT_TRUE(source.ok()) << source.status();
  std::vector<std::string> names;
  for (const TensorInfo& t : (*source)->tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blocks.0.self_attn.q.scale_weight", "blocks.0.self_attn.q.weight",
                                             "patch_embedding.weight", "scaled_fp8"}));
  auto scale = (*source)->Read("blocks.0.self_attn.q.scale_weight");
  ASSERT_TRUE(scale.ok());
  EXPECT_EQ(scale->item<float>(), 0.5f);
  EXPECT_EQ((*source)->Read("model.diffusion_model.patch_embedding.weight").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ComfyLayoutTest, VaeLoadsAsIs) {
  const std::string official = GoldenDir() + "/vae_decode/weights.safetensors";
  auto source = OpenComfyCheckpoint(official, ComfyComponent::kVae);
  ASSERT_TRUE(source.ok()) << source.status();
  models::vae::WanVaeOptions options;
  auto config = models::vae::VaeConfig::FromJson(FixtureConfig("vae_decode"));
  ASSERT_TRUE(config.ok());
  options.config = *config;
  EXPECT_TRUE(models::vae::WanVae::Create(**source, options).ok());
}

TEST_F(ComfyLayoutTest, WrongComponentAndOpenClipAreRefused) {
  const std::string vae = GoldenDir() + "/vae_decode/weights.safetensors";
  ExpectInvalidMentioning(OpenComfyCheckpoint(vae, ComfyComponent::kT5).status(), "found vae");
  ExpectInvalidMentioning(OpenComfyCheckpoint(GoldenDir() + "/t5_encoder/weights.safetensors",
                                              ComfyComponent::kDit).status(), "found t5");
  const absl::Status written = WriteSafetensors(
      Path("open_clip.safetensors"),
      {NamedTensor{"visual.conv1.weight", at::ones({8, 3, 2, 2}), {}},
       NamedTensor{"visual.transformer.resblocks.0.attn.in_proj_weight", at::ones({24, 8}), {}}});
  ASSERT_TRUE(written.ok()) << written;
  ExpectInvalidMentioning(OpenComfyCheckpoint(Path("open_clip.safetensors"), ComfyComponent::kClip).status(),
                          "open_clip");
}

TEST_F(ComfyLayoutTest, HfClipLoadsIntoTheVisualTowerWithIdenticalOutputs) {
  const std::string official = GoldenDir() + "/clip_visual/weights.safetensors";
  test_util::WriteHfClip(official, Path("clip_vision_h.safetensors"));
  auto config = models::ClipVisionConfig::FromJson(FixtureConfig("clip_visual"));
  ASSERT_TRUE(config.ok()) << config.status();

  auto comfy = OpenComfyCheckpoint(Path("clip_vision_h.safetensors"), ComfyComponent::kClip);
  ASSERT_TRUE(comfy.ok()) << comfy.status();
  const TensorInfo* qkv = (*comfy)->Find("visual.transformer.0.attn.to_qkv.weight");
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->shape, (std::vector<int64_t>{96, 32}));
  models::ClipVisualOptions options;
  options.config = *config;
  options.source = comfy->get();
  auto from_comfy = models::ClipVisual::Create(options);
  ASSERT_TRUE(from_comfy.ok()) << from_comfy.status();
  options.source = nullptr;
  options.checkpoint_path = official;
  auto from_official = models::ClipVisual::Create(options);
  ASSERT_TRUE(from_official.ok()) << from_official.status();

  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const torch::Tensor pixels = at::randn({2, 3, 56, 56}, gen, at::TensorOptions().dtype(at::kFloat));
  auto a = (*from_official)->EncodePixels(pixels);
  auto b = (*from_comfy)->EncodePixels(pixels);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(*a, *b));
}

TEST(ClassifyHeaderTest, RecognisesEachComponent) {
  auto classify = [](const std::string& path) {
    auto header = ReadSafetensorsHeader(path);
    EXPECT_TRUE(header.ok()) << header.status();
    return header.ok() ? ClassifyHeader(*header) : std::nullopt;
  };
  EXPECT_EQ(classify(GoldenDir() + "/dit_t2v/weights.safetensors"), ComfyComponent::kDit);
  EXPECT_EQ(classify(GoldenDir() + "/dit_i2v/weights.safetensors"), ComfyComponent::kDit);
  EXPECT_EQ(classify(GoldenDir() + "/t5_encoder/weights.safetensors"), ComfyComponent::kT5);
  EXPECT_EQ(classify(GoldenDir() + "/clip_visual/weights.safetensors"), ComfyComponent::kClip);
  EXPECT_EQ(classify(GoldenDir() + "/vae_decode/weights.safetensors"), ComfyComponent::kVae);
  EXPECT_EQ(classify(GoldenDir() + "/dit_t2v/inputs.safetensors"), std::nullopt);
}

TEST(RenamingTensorSourceTest, TwoNamesMappingToOneIsInvalidArgument) {
  auto base = OpenCheckpoint(GoldenDir() + "/t5_encoder/weights.safetensors");
  ASSERT_TRUE(base.ok());
  auto renamed = RenamingTensorSource::Create(std::move(*base), [](std::string_view name) -> std::optional<std::string> {
    if (name == "norm.weight" || name == "token_embedding.weight") return std::string("same");
    return std::string(name);
  });
  ExpectInvalidMentioning(renamed.status(), "both map to 'same'");
}

}  // namespace
}  // namespace videogen::io

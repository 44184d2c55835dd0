#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/io/safetensors.h"
#include "engine/lora/convention.h"
#include "engine/lora/lora_adapter.h"
#include "engine/lora/merged_source.h"
#include "tests/support/temp_dir.h"

namespace videogen::lora {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class LoraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(7);
    q_ = at::randn({6, 4});
    q_bias_ = at::randn({6});
    norm_ = at::randn({4});
    ffn_ = at::randn({8, 4});
    base_ = Write("base.safetensors", {{"blocks.0.self_attn.q.weight", q_},
                                       {"blocks.0.self_attn.q.bias", q_bias_},
                                       {"blocks.0.norm3.weight", norm_},
                                       {"blocks.0.ffn.0.weight", ffn_}});
    down_ = at::randn({2, 4});
    up_ = at::randn({6, 2});
    ffn_down_ = at::randn({3, 4});
    ffn_up_ = at::randn({8, 3});
    diff_ = at::randn({4});
    diff_b_ = at::randn({6});
  }

  std::unique_ptr<io::TensorSource> Write(const std::string& name, std::vector<io::NamedTensor> tensors) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(io::WriteSafetensors(path, std::move(tensors)).ok());
    auto source = io::OpenSafetensors(path);
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? std::move(*source) : nullptr;
  }
  absl::StatusOr<LoraAdapter> Adapter(const std::string& name, std::vector<io::NamedTensor> tensors,
                                      LoraConvention convention) {
    auto file = Write(name, std::move(tensors));
    return LoraAdapter::Read(*file, convention, *base_, name);
  }
  // The merged parameter `param` of `adapters` over the base file.
  torch::Tensor Merged(std::vector<AppliedLora> adapters, const std::string& param) {
    auto merged = MergeLoras(io::OpenSafetensors((dir_ / "base.safetensors").string()).value(), std::move(adapters));
    EXPECT_TRUE(merged.ok()) << merged.status();
    auto t = (*merged)->Read(param);
    EXPECT_TRUE(t.ok()) << t.status();
    return *t;
  }

  videogen::testing::ScopedTempDir tmp_{"vg_lora"};
  const fs::path dir_ = tmp_.path();
  std::unique_ptr<io::TensorSource> base_;
  torch::Tensor q_, q_bias_, norm_, ffn_, down_, up_, ffn_down_, ffn_up_, diff_, diff_b_;
};

TEST_F(LoraTest, ComfyUIMergeIsBasePlusScaledLowRankAndDiffs) {
  auto a = Adapter("comfy.safetensors",
                   {{"diffusion_model.blocks.0.self_attn.q.lora_down.weight", down_},
                    {"diffusion_model.blocks.0.self_attn.q.lora_up.weight", up_},
                    {"diffusion_model.blocks.0.self_attn.q.alpha", at::full({}, 8.0)},
                    {"diffusion_model.blocks.0.self_attn.q.diff_b", diff_b_},
                    {"diffusion_model.blocks.0.norm3.diff", diff_}},
                   LoraConvention::kComfyUI);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_DOUBLE_EQ(a->modules().at("blocks.0.self_attn.q").scale, 4.0);  // alpha 8 / rank 2
  auto adapter = std::make_shared<const LoraAdapter>(*std::move(a));
  const double s = 0.8;
  EXPECT_TRUE(at::allclose(Merged({{adapter, s}}, "blocks.0.self_attn.q.weight"), q_ + at::matmul(up_, down_) * (s * 4)));
  EXPECT_TRUE(at::allclose(Merged({{adapter, s}}, "blocks.0.self_attn.q.bias"), q_bias_ + diff_b_ * s));
  EXPECT_TRUE(at::allclose(Merged({{adapter, s}}, "blocks.0.norm3.weight"), norm_ + diff_ * s));
  // Untouched parameters pass through.
  EXPECT_TRUE(at::equal(Merged({{adapter, s}}, "blocks.0.ffn.0.weight"), ffn_));
}

TEST_F(LoraTest, TheThreeConventionsMapToTheSameModules) {
  // alpha == rank in the comfyui/kohya files: scale 1, as diffusers (no alpha).
  auto comfy = Adapter("c.safetensors",
                       {{"diffusion_model.blocks.0.ffn.0.lora_A.weight", ffn_down_},
                        {"diffusion_model.blocks.0.ffn.0.lora_B.weight", ffn_up_},
                        {"diffusion_model.blocks.0.ffn.0.alpha", at::full({}, 3.0)},
                        {"diffusion_model.blocks.0.self_attn.q.lora_down.weight", down_},
                        {"diffusion_model.blocks.0.self_attn.q.lora_up.weight", up_}},
                       LoraConvention::kComfyUI);
  auto kohya = Adapter("k.safetensors",
                       {{"lora_unet_blocks_0_ffn_0.lora_down.weight", ffn_down_},
                        {"lora_unet_blocks_0_ffn_0.lora_up.weight", ffn_up_},
                        {"lora_unet_blocks_0_ffn_0.alpha", at::full({}, 3.0)},
                        {"lora_unet_blocks_0_self_attn_q.lora_down.weight", down_},
                        {"lora_unet_blocks_0_self_attn_q.lora_up.weight", up_}},
                       LoraConvention::kKohya);
  auto diffusers = Adapter("d.safetensors",
                           {{"transformer.blocks.0.ffn.net.0.proj.lora_A.weight", ffn_down_},
                            {"transformer.blocks.0.ffn.net.0.proj.lora_B.weight", ffn_up_},
                            {"transformer.blocks.0.attn1.to_q.lora_A.weight", down_},
                            {"transformer.blocks.0.attn1.to_q.lora_B.weight", up_}},
                           LoraConvention::kDiffusers);
  ASSERT_TRUE(comfy.ok()) << comfy.status();
  ASSERT_TRUE(kohya.ok()) << kohya.status();
  ASSERT_TRUE(diffusers.ok()) << diffusers.status();
  for (const std::string param : {"blocks.0.ffn.0.weight", "blocks.0.self_attn.q.weight"}) {
    const torch::Tensor c = comfy->DeltaFor(param, 0.5);
    ASSERT_TRUE(c.defined()) << param;
    EXPECT_TRUE(at::equal(c, kohya->DeltaFor(param, 0.5))) << param;
    EXPECT_TRUE(at::equal(c, diffusers->DeltaFor(param, 0.5))) << param;
  }
}

TEST_F(LoraTest, AdaptersStackInOrderAndBf16IsConverted) {
  auto first = Adapter("a.safetensors",
                       {{"diffusion_model.blocks.0.norm3.diff", diff_}}, LoraConvention::kComfyUI);
  auto second = Adapter("b.safetensors",
                        {{"diffusion_model.blocks.0.self_attn.q.lora_A.weight", down_.to(at::kBFloat16)},
                         {"diffusion_model.blocks.0.self_attn.q.lora_B.weight", up_.to(at::kBFloat16)}},
                        LoraConvention::kComfyUI);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->modules().at("blocks.0.self_attn.q").down.scalar_type(), at::kFloat);
  auto a = std::make_shared<const LoraAdapter>(*std::move(first));
  auto b = std::make_shared<const LoraAdapter>(*std::move(second));
  const torch::Tensor up = up_.to(at::kBFloat16).to(at::kFloat), down = down_.to(at::kBFloat16).to(at::kFloat);
  EXPECT_TRUE(at::allclose(Merged({{a, 1.0}, {b, 0.25}}, "blocks.0.self_attn.q.weight"),
                           q_ + at::matmul(up, down) * 0.25));
  EXPECT_TRUE(at::allclose(Merged({{a, 1.0}, {b, 0.25}}, "blocks.0.norm3.weight"), norm_ + diff_));
}

TEST_F(LoraTest, EveryKeyMustMapAndErrorsNameIt) {
  auto unknown = Adapter("u.safetensors", {{"diffusion_model.blocks.0.self_attn.q.lora_mid.weight", down_}},
                         LoraConvention::kComfyUI);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("diffusion_model.blocks.0.self_attn.q.lora_mid.weight"));
  auto missing_module = Adapter("m.safetensors", {{"lora_unet_blocks_0_cross_attn_k.lora_down.weight", down_}},
                                LoraConvention::kKohya);
  EXPECT_EQ(missing_module.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing_module.status().message(), HasSubstr("lora_unet_blocks_0_cross_attn_k"));
  auto half_pair = Adapter("h.safetensors", {{"diffusion_model.blocks.0.self_attn.q.lora_down.weight", down_}},
                           LoraConvention::kComfyUI);
  EXPECT_EQ(half_pair.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(half_pair.status().message(), HasSubstr("blocks.0.self_attn.q"));
  auto wrong_shape = Adapter("w.safetensors",
                             {{"diffusion_model.blocks.0.ffn.0.lora_down.weight", down_},
                              {"diffusion_model.blocks.0.ffn.0.lora_up.weight", up_}},
                             LoraConvention::kComfyUI);
  EXPECT_EQ(wrong_shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_shape.status().message(), HasSubstr("[6, 4]"));
}

TEST_F(LoraTest, ConventionIsDetectedFromThePrefixes) {
  auto comfy = Write("dc.safetensors", {{"diffusion_model.blocks.0.norm3.diff", diff_}});
  EXPECT_EQ(*DetectLoraConvention(*comfy), LoraConvention::kComfyUI);
  auto kohya = Write("dk.safetensors", {{"lora_unet_blocks_0_norm3.diff", diff_}});
  EXPECT_EQ(*DetectLoraConvention(*kohya), LoraConvention::kKohya);
  auto mixed = Write("dm.safetensors",
                     {{"lora_unet_blocks_0_norm3.diff", diff_}, {"transformer.blocks.0.attn1.to_q.lora_A.weight", down_}});
  EXPECT_EQ(DetectLoraConvention(*mixed).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLoraConvention("diffusers"), LoraConvention::kDiffusers);
  EXPECT_FALSE(ParseLoraConvention("peft").has_value());
}

TEST_F(LoraTest, MergingIntoFp8StoredWeightsIsRefusedNamingTheTensor) {
  auto fp8_base = Write("fp8.safetensors", {{"blocks.0.self_attn.q.weight", at::zeros({6, 4}, at::kByte), io::DType::kF8E4M3}});
  auto file = Write("l.safetensors", {{"diffusion_model.blocks.0.self_attn.q.lora_down.weight", down_},
                                      {"diffusion_model.blocks.0.self_attn.q.lora_up.weight", up_}});
  auto adapter = LoraAdapter::Read(*file, LoraConvention::kComfyUI, *fp8_base, "l");
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  auto merged = MergeLoras(std::move(fp8_base), {{std::make_shared<const LoraAdapter>(*std::move(adapter)), 1.0}});
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(merged.status().message(), HasSubstr("blocks.0.self_attn.q.weight"));
}

TEST(LoraFileSpecTest, PathWithOptionalStrength) {
  auto plain = ParseLoraFileSpec("/loras/a.safetensors");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->path, "/loras/a.safetensors");
  EXPECT_EQ(plain->strength, 1.0);
  auto strong = ParseLoraFileSpec("/loras/a:b.safetensors:0.75");
  ASSERT_TRUE(strong.ok());
  EXPECT_EQ(strong->path, "/loras/a:b.safetensors");
  EXPECT_EQ(strong->strength, 0.75);
  EXPECT_EQ(ParseLoraFileSpec("a.safetensors:11").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLoraFileSpec(":0.5").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace videogen::lora

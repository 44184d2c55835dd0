// Per-request adapters: a LoRA applied as side paths beside the base weights
// equals the same LoRA merged at load (fp32 weights), on the golden DiT.
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/io/tensor_source.h"
#include "engine/lora/side_paths.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "tests/support/golden.h"

namespace videogen::lora {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const LoraAdapter> ReadAdapter(const std::string& file, const io::TensorSource& base) {
  auto source = io::OpenCheckpoint(videogen::testing::GoldenDir() + "/dit_lora/" + file);
  EXPECT_TRUE(source.ok()) << source.status();
  auto adapter = LoraAdapter::Read(**source, LoraConvention::kComfyUI, base, file);
  EXPECT_TRUE(adapter.ok()) << adapter.status();
  return std::make_shared<const LoraAdapter>(*std::move(adapter));
}

models::WanModel LoadDit(const io::TensorSource& source) {
  models::WanModel model(models::WanConfig::FromJson({{"model_type", "t2v"}, {"dim", 64}, {"ffn_dim", 128},
                                                      {"text_dim", 32}, {"num_heads", 4}, {"num_layers", 2}})
                             .value(),
                         quant::ParamInit::kUninitialized);
  EXPECT_TRUE(models::LoadStateDict(*model, source, {}).ok());
  return model;
}

std::vector<torch::Tensor> Forward(models::WanModel& model) {
  const std::string dir = videogen::testing::GoldenDir() + "/dit_lora/";
  auto inputs = io::OpenCheckpoint(dir + "inputs.safetensors").value();
  models::WanInputs in;
  in.x = {inputs->Read("x_0").value()};
  in.context = {inputs->Read("context_0").value()};
  in.t = inputs->Read("t").value();
  in.seq_len = inputs->Read("seq_len").value().item<int64_t>();
  torch::NoGradGuard no_grad;
  return model->forward(in);
}

TEST(SidePathTest, UnmergedEqualsMergedOnFp32Weights) {
  const std::string base_path = videogen::testing::GoldenDir() + "/dit_t2v/weights.safetensors";
  auto base = io::OpenCheckpoint(base_path).value();
  // lora_1 is low-rank only (bf16, rank 2), so it can run per request.
  const auto adapter = ReadAdapter("lora_1.safetensors", *base);
  const double strength = 0.7;

  auto merged_source = MergeLoras(io::OpenCheckpoint(base_path).value(), {{adapter, strength}});
  ASSERT_TRUE(merged_source.ok()) << merged_source.status();
  models::WanModel merged = LoadDit(**merged_source);
  models::WanModel side = LoadDit(*base);
  SidePathTargets targets(*side);
  ASSERT_TRUE(targets.Apply({{adapter, strength}}).ok());

  const torch::Tensor want = Forward(merged)[0], got = Forward(side)[0];
  EXPECT_LT(videogen::testing::RelL2(got, want), 1e-5);
  // Cleared, the model is the base model again.
  targets.Clear();
  const torch::Tensor plain = Forward(side)[0];
  models::WanModel reference = LoadDit(*base);
  EXPECT_TRUE(at::equal(plain, Forward(reference)[0]));
  EXPECT_GT((plain - want).abs().max().item<double>(), 1e-4);  // the adapter does change the output
}

TEST(SidePathTest, FullRankDeltasAreOnlyMergedAtLoad) {
  auto base = io::OpenCheckpoint(videogen::testing::GoldenDir() + "/dit_t2v/weights.safetensors").value();
  const auto with_diffs = ReadAdapter("lora_0.safetensors", *base);  // has norm3.diff and diff_b
  models::WanModel model = LoadDit(*base);
  SidePathTargets targets(*model);
  const absl::Status s = targets.CheckServable(*with_diffs);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("lora_0.safetensors"));
  EXPECT_THAT(s.message(), HasSubstr("--lora"));
}

}  // namespace
}  // namespace videogen::lora

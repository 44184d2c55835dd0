// The DiT with resident fp8 weights: which layers become fp8, fidelity on the
// golden dit_t2v fixture, and loading pre-quantized (ComfyUI-style) files.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/quant/fp8_storage.h"
#include "engine/quant/quant_linear.h"

namespace videogen::models {
namespace {

namespace fs = std::filesystem;

fs::path Golden() {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return dir != nullptr ? fs::path(dir) : fs::path("../shared/golden");
}

struct DitFixture {
  WanConfig config;
  WanInputs inputs;
  torch::Tensor expected;
};

DitFixture LoadDitT2v() {
  const fs::path dir = Golden() / "dit_t2v";
  std::ifstream in(dir / "fixture.json");
  const nlohmann::json meta = nlohmann::json::parse(in);
  DitFixture f;
  f.config = *WanConfig::FromJson(meta["config"]);
  auto inputs = io::OpenSafetensors((dir / "inputs.safetensors").string());
  auto outputs = io::OpenSafetensors((dir / "outputs.safetensors").string());
  EXPECT_TRUE(inputs.ok() && outputs.ok());
  f.inputs.x = {(*inputs)->Read("x_0")->clone()};
  f.inputs.context = {(*inputs)->Read("context_0")->clone()};
  f.inputs.t = (*inputs)->Read("t")->clone();
  f.inputs.seq_len = (*inputs)->Read("seq_len")->item<int64_t>();
  f.expected = (*outputs)->Read("out_0")->clone();
  return f;
}

double RelL2(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm() / b.to(torch::kFloat64).norm()).item<double>();
}

std::map<std::string, quant::QuantLinearImpl*> QuantLayers(torch::nn::Module& m) {
  std::map<std::string, quant::QuantLinearImpl*> out;
  for (const auto& item : m.named_modules()) {
    if (auto* q = dynamic_cast<quant::QuantLinearImpl*>(item.value().get())) out[item.key()] = q;
  }
  return out;
}

class DitFp8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(Golden() / "dit_t2v")) GTEST_SKIP() << "no golden fixtures at " << Golden();
    fixture_ = LoadDitT2v();
    auto src = io::OpenSafetensors((Golden() / "dit_t2v" / "weights.safetensors").string());
    ASSERT_TRUE(src.ok()) << src.status();
    source_ = std::move(*src);
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove(tmp_);
  }
  DitFixture fixture_;
  std::unique_ptr<io::TensorSource> source_;
  std::string tmp_;
};

TEST_F(DitFp8Test, PolicyPutsBlockLinearsInFp8AndMeetsTheGoal) {
  WanModel model(fixture_.config, quant::ParamInit::kUninitialized);
  LoadOptions options;
  options.fp8 = quant::Fp8Options{};
  ASSERT_TRUE(LoadStateDict(*model, *source_, options).ok());
  int fp8 = 0, high = 0;
  for (const auto& [path, layer] : QuantLayers(*model)) {
    const bool want_fp8 = path.rfind("blocks.", 0) == 0;
    EXPECT_EQ(layer->is_fp8(), want_fp8) << path;
    (layer->is_fp8() ? fp8 : high)++;
  }
  EXPECT_EQ(fp8, 2 * 10);  // 2 blocks x (self_attn q,k,v,o + cross_attn q,k,v,o + ffn.0, ffn.2)
  EXPECT_GT(high, 0);
  for (const auto& p : model->named_parameters()) {
    if (quant::IsFp8Storage(p.value())) {
      EXPECT_NE(p.key().find("blocks."), std::string::npos) << p.key();
    } else {
      EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
    }
  }
  torch::NoGradGuard no_grad;
  const double err = RelL2(model->forward(fixture_.inputs)[0], fixture_.expected);
  EXPECT_LT(err, 3e-2);
  EXPECT_GT(err, 1e-4);  // really quantized
}

TEST_F(DitFp8Test, PreQuantizedScaledFileLoadsToTheSameModel) {
  // Quantize on load, then write what a ComfyUI "fp8_scaled" file holds.
  WanModel reference(fixture_.config, quant::ParamInit::kUninitialized);
  LoadOptions options;
  options.fp8 = quant::Fp8Options{};
  ASSERT_TRUE(LoadStateDict(*reference, *source_, options).ok());
  // ComfyUI single files prefix every key with "model.diffusion_model.".
  const std::string prefix = "model.diffusion_model.";
  std::vector<io::NamedTensor> tensors;
  const auto layers = QuantLayers(*reference);
  for (const auto& p : reference->named_parameters()) {
    if (quant::IsFp8Storage(p.value())) {
      tensors.push_back({prefix + p.key(), quant::Fp8CodesFromStorage(p.value()), io::DType::kF8E4M3});
      const std::string layer = p.key().substr(0, p.key().size() - 7);
      tensors.push_back(
          {prefix + layer + ".scale_weight", torch::tensor({layers.at(layer)->weight_scale()}), std::nullopt});
    } else {
      tensors.push_back({prefix + p.key(), p.value(), std::nullopt});
    }
  }
  tensors.push_back({prefix + "scaled_fp8", torch::zeros({0}, torch::kUInt8), io::DType::kF8E4M3});
  options.prefix = prefix;
  tmp_ = (fs::temp_directory_path() / ("vg_fp8_" + std::to_string(::getpid()) + ".safetensors")).string();
  ASSERT_TRUE(io::WriteSafetensors(tmp_, std::move(tensors)).ok());
  auto file = io::OpenSafetensors(tmp_);
  ASSERT_TRUE(file.ok()) << file.status();

  torch::NoGradGuard no_grad;
  const torch::Tensor want = reference->forward(fixture_.inputs)[0];
  // Kept in fp8 with its own scales: bit-identical codes, identical output.
  WanModel resident(fixture_.config, quant::ParamInit::kUninitialized);
  ASSERT_TRUE(LoadStateDict(*resident, **file, options).ok());
  for (const auto& [path, layer] : QuantLayers(*resident)) {
    ASSERT_EQ(layer->is_fp8(), layers.at(path)->is_fp8()) << path;
    if (!layer->is_fp8()) continue;
    EXPECT_TRUE(torch::equal(quant::Fp8CodesFromStorage(layer->weight),
                             quant::Fp8CodesFromStorage(layers.at(path)->weight))) << path;
    EXPECT_EQ(layer->weight_scale(), layers.at(path)->weight_scale()) << path;
  }
  EXPECT_TRUE(torch::equal(resident->forward(fixture_.inputs)[0], want));
  // Without fp8 options the same file is dequantized to float32.
  WanModel dequantized(fixture_.config, quant::ParamInit::kUninitialized);
  LoadOptions plain;
  plain.prefix = prefix;
  ASSERT_TRUE(LoadStateDict(*dequantized, **file, plain).ok());
  for (const auto& p : dequantized->named_parameters()) EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
  EXPECT_LT(RelL2(dequantized->forward(fixture_.inputs)[0], want), 1e-5);
}

TEST_F(DitFp8Test, PlainCastFileWithoutScalesLoads) {
  WanModel model(fixture_.config, quant::ParamInit::kUninitialized);
  LoadOptions options;
  options.fp8 = quant::Fp8Options{quant::Fp8Policy::WanDit(), quant::Fp8Scaling::kPlainCast};
  ASSERT_TRUE(LoadStateDict(*model, *source_, options).ok());
  for (const auto& [path, layer] : QuantLayers(*model)) {
    if (layer->is_fp8()) {
      EXPECT_EQ(layer->weight_scale(), 1.0f) << path;
    }
  }
  torch::NoGradGuard no_grad;
  EXPECT_LT(RelL2(model->forward(fixture_.inputs)[0], fixture_.expected), 3e-2);
}

TEST(DitFp8Load, E5M2IsRefusedNamingTheTensor) {
  WanConfig c = WanConfig::T2V_1_3B();
  c.dim = 8; c.ffn_dim = 8; c.num_heads = 2; c.num_layers = 1; c.text_dim = 8; c.freq_dim = 8;
  WanModel model(c);
  std::vector<io::NamedTensor> tensors;
  for (const auto& p : model->named_parameters()) {
    if (p.key() == "blocks.0.ffn.0.weight") {
      tensors.push_back({p.key(), torch::zeros(p.value().sizes(), torch::kUInt8), io::DType::kF8E5M2});
    } else {
      tensors.push_back({p.key(), p.value(), std::nullopt});
    }
  }
  const std::string path = (fs::temp_directory_path() / ("vg_e5m2_" + std::to_string(::getpid()) + ".safetensors")).string();
  ASSERT_TRUE(io::WriteSafetensors(path, std::move(tensors)).ok());
  auto file = io::OpenSafetensors(path);
  ASSERT_TRUE(file.ok());
  const absl::Status s = LoadStateDict(*model, **file);
  fs::remove(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("blocks.0.ffn.0.weight"), std::string::npos) << s;
}

}  // namespace
}  // namespace videogen::models

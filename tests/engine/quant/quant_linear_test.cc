#include "engine/quant/quant_linear.h"

#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/quant/fp8_storage.h"
#include "engine/quant/policy.h"

namespace videogen::quant {
namespace {

TEST(QuantLinear, RegistersTorchLinearNames) {
  QuantLinear layer(8, 4);
  const auto params = layer->named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params["weight"].sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(params["bias"].sizes(), (std::vector<int64_t>{4}));
  QuantLinear no_bias(QuantLinearOptions{8, 4, false, ParamInit::kRandom});
  EXPECT_EQ(no_bias->named_parameters().size(), 1u);
}

TEST(QuantLinear, HighPrecisionMatchesTorchLinear) {
  torch::manual_seed(0);
  QuantLinear layer(16, 8);
  const torch::Tensor x = torch::randn({3, 5, 16});
  const torch::Tensor want = torch::nn::functional::linear(x, layer->weight, layer->bias);
  EXPECT_TRUE(torch::allclose(layer(x), want));
  EXPECT_FALSE(layer->is_fp8());
}

TEST(QuantLinear, Fp8ForwardEqualsLinearOnDequantizedWeight) {
  torch::manual_seed(1);
  QuantLinear layer(32, 24);
  const torch::Tensor w = layer->weight.clone();
  auto q = QuantizeWeight(w, Fp8Scaling::kPerTensor);
  ASSERT_TRUE(q.ok());
  const Fp8Weight copy = *q;
  ASSERT_TRUE(layer->SetFp8Weight(std::move(*q), torch::kFloat32).ok());
  EXPECT_TRUE(layer->is_fp8());
  EXPECT_TRUE(IsFp8Storage(layer->weight));
  EXPECT_EQ(layer->named_parameters()["weight"].scalar_type(), Fp8StorageType());
  const torch::Tensor x = torch::randn({7, 32});
  const torch::Tensor want = torch::nn::functional::linear(x, DequantizeWeight(copy, torch::kFloat32), layer->bias);
  EXPECT_TRUE(torch::allclose(layer(x), want, 1e-6, 1e-6));
  // And close to the unquantized layer.
  const torch::Tensor exact = torch::nn::functional::linear(x, w, layer->bias);
  EXPECT_LT(((layer(x) - exact).norm() / exact.norm()).item<double>(), 0.05);
  // bf16 compute.
  ASSERT_TRUE(layer->SetFp8Weight(copy, torch::kBFloat16).ok());
  EXPECT_EQ(layer(x).scalar_type(), torch::kBFloat16);
}

// fp8 layers of different sizes share the calling thread's up-cast buffer;
// each forward still equals the linear on its own dequantized weight, bit for
// bit, whatever ran before it.
TEST(QuantLinear, Fp8LayersOfDifferentSizesShareTheUpCastBufferExactly) {
  torch::manual_seed(2);
  QuantLinear big(64, 48), small(16, 8);
  std::vector<Fp8Weight> weights;
  for (QuantLinear* layer : {&big, &small}) {
    auto q = QuantizeWeight((*layer)->weight.clone(), Fp8Scaling::kPerTensor);
    ASSERT_TRUE(q.ok());
    weights.push_back(*q);
    ASSERT_TRUE((*layer)->SetFp8Weight(std::move(*q), torch::kFloat32).ok());
  }
  const torch::Tensor xb = torch::randn({5, 64}), xs = torch::randn({3, 16});
  const torch::Tensor want_big = torch::nn::functional::linear(xb, DequantizeWeight(weights[0], torch::kFloat32), big->bias);
  const torch::Tensor want_small =
      torch::nn::functional::linear(xs, DequantizeWeight(weights[1], torch::kFloat32), small->bias);
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(torch::equal(small(xs), want_small)) << round;
    EXPECT_TRUE(torch::equal(big(xb), want_big)) << round;
    EXPECT_TRUE(torch::equal(small(xs), want_small)) << round;
  }
}

TEST(QuantLinear, SetFp8WeightRejectsWrongShape) {
  QuantLinear layer(4, 4);
  auto q = QuantizeWeight(torch::ones({4, 5}), Fp8Scaling::kPlainCast);
  ASSERT_TRUE(q.ok());
  const auto s = layer->SetFp8Weight(std::move(*q), torch::kFloat32);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("weight"), std::string::npos);
}

TEST(Fp8Policy, WanDitKeepsEmbeddingsHeadAndNormsHighPrecision) {
  const Fp8Policy p = Fp8Policy::WanDit();
  for (const char* layer : {"blocks.0.self_attn.q", "blocks.11.self_attn.o", "blocks.3.cross_attn.k_img",
                            "blocks.3.cross_attn.v", "blocks.29.ffn.0", "blocks.29.ffn.2"}) {
    EXPECT_TRUE(p.QuantizesLayer(layer)) << layer;
  }
  for (const char* layer : {"head.head", "text_embedding.0", "time_embedding.2", "time_projection.1",
                            "img_emb.proj.1", "patch_embedding"}) {
    EXPECT_FALSE(p.QuantizesLayer(layer)) << layer;
  }
  EXPECT_TRUE(p.QuantizesTensor("blocks.0.ffn.0.weight", {8960, 1536}));
  EXPECT_FALSE(p.QuantizesTensor("blocks.0.ffn.0.bias", {8960}));
  EXPECT_FALSE(p.QuantizesTensor("blocks.0.modulation", {1, 6, 1536}));
  EXPECT_FALSE(p.QuantizesTensor("blocks.0.norm3.weight", {1536}));
  EXPECT_FALSE(p.QuantizesTensor("blocks.0.self_attn.norm_q.weight", {1536}));
  EXPECT_FALSE(p.QuantizesTensor("patch_embedding.weight", {1536, 16, 1, 2, 2}));
  EXPECT_FALSE(p.QuantizesTensor("head.head.weight", {64, 1536}));
}

}  // namespace
}  // namespace videogen::quant

// The DiT block's fused bf16/fp16 kernels against the op chains they replace,
// and the bf16 block against the float32 block.
#include "engine/models/dit/fused_ops.h"

#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/models/dit/attention_block.h"
#include "engine/models/dit/layers.h"
#include "engine/models/dit/rope.h"

namespace videogen::models {
namespace {

double MaxRelError(const torch::Tensor& got, const torch::Tensor& want) {
  const torch::Tensor w = want.to(torch::kFloat64);
  return ((got.to(torch::kFloat64) - w).abs().max() / w.abs().max()).item<double>();
}

TEST(FusedOpsTest, ModulatedLayerNormMatchesTheOpChain) {
  torch::manual_seed(1);
  const torch::Tensor x = at::randn({2, 37, 64}) * 3 + 1;
  for (const int64_t rows : {int64_t{1}, int64_t{37}}) {  // per sample and per token modulation
    const torch::Tensor shift = at::randn({2, rows, 64}) * 0.1, scale = at::randn({2, rows, 64}) * 0.1;
    const torch::Tensor want = at::addcmul(shift, LayerNormNoAffine(x, 1e-6), 1 + scale).to(at::kBFloat16);
    const torch::Tensor got = ModulatedLayerNorm(x, shift, scale, 1e-6, at::kBFloat16);
    ASSERT_EQ(got.scalar_type(), at::kBFloat16);
    ASSERT_EQ(got.sizes(), x.sizes());
    // Both round the same float32 value once; statistics differ in summation order only.
    EXPECT_LT(MaxRelError(got, want), 1e-2) << "rows " << rows;
    EXPECT_GT((got == want).to(torch::kFloat32).mean().item<double>(), 0.99) << "rows " << rows;
  }
}

TEST(FusedOpsTest, RmsNormRopeMatchesNormThenFloat64Rope) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  const int64_t heads = 4, d = 24, len = 40;  // 5 x 4 x 2 grid
  const RopeTables tables = MakeRopeTables(d, {5, 4, 2}, torch::kCPU);
  WanRMSNorm norm(heads * d, 1e-6);
  norm->weight.uniform_(0.5, 1.5);
  norm->to(at::kBFloat16);
  // Two extra rows beyond the tables stay unrotated.
  const torch::Tensor y = (at::randn({len + 2, heads * d}) * 2).to(at::kBFloat16);
  const torch::Tensor want = ApplyRope(norm(y).view({len + 2, heads, d}), tables);
  const torch::Tensor got = RmsNormRope(y, norm->weight, norm->eps(), heads, &tables.cos_f32, &tables.sin_f32);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT(MaxRelError(got, want), 1e-2);
  EXPECT_TRUE(at::equal(got.narrow(0, len, 2), norm(y).view({len + 2, heads, d}).narrow(0, len, 2)));
  // RoPE alone.
  const torch::Tensor x = at::randn({len, heads, d}).to(at::kBFloat16);
  EXPECT_LT(MaxRelError(ApplyRopeF32(x, tables.cos_f32, tables.sin_f32), ApplyRope(x, tables)), 1e-2);
}

// Within one unit in the last place of `want` (bf16: 2^-7 relative), and
// mostly equal: both round a float32 value of the same function once.
void ExpectGeluWithinOneUlp(const torch::Tensor& got, const torch::Tensor& want, double ulp) {
  const torch::Tensor g = got.to(torch::kFloat64), w = want.to(torch::kFloat64);
  const torch::Tensor bound = w.abs() * ulp + 1e-30;
  EXPECT_TRUE(((g - w).abs() <= bound).all().item<bool>()) << "max error " << (g - w).abs().max().item<double>();
  EXPECT_GT((got == want).to(torch::kFloat32).mean().item<double>(), 0.99);
}

TEST(FusedOpsTest, GeluTanhInPlaceMatchesGeluRoundedOnce) {
  torch::manual_seed(4);
  // Not a multiple of any vector width, several parallel chunks, the tails of
  // the function (+-100: x and -0) and zero.
  torch::Tensor x =
      at::cat({at::randn({200003}) * 4, at::linspace(-12, 12, 4001), at::tensor({100.0f, -100.0f, 0.0f, -0.0f})});
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    torch::Tensor got = x.to(dtype);
    // The reference in float64 as x * sigmoid(2u), which is exact in the tails;
    // the textbook 0.5 x (1 + tanh(u)) cancels for negative x (LibTorch's
    // float32 gelu is 30% off at x = -5; even float64 is at x = -7).
    const torch::Tensor xd = got.to(torch::kFloat64);
    const torch::Tensor u = 0.7978845608028654 * (xd + 0.044715 * xd.pow(3));
    const torch::Tensor want = (xd * at::sigmoid(2 * u)).to(dtype);
    // Where LibTorch's float32 gelu does not cancel, it is the same function.
    const torch::Tensor mid = (xd >= -3).logical_and(xd <= 12);
    const torch::Tensor libtorch = at::gelu(got.to(torch::kFloat32), "tanh").to(dtype);
    GeluTanhInPlace(got);
    ExpectGeluWithinOneUlp(got, want, dtype == at::kBFloat16 ? 1.0 / 128 : 1.0 / 1024);
    ExpectGeluWithinOneUlp(got.masked_select(mid), libtorch.masked_select(mid),
                           dtype == at::kBFloat16 ? 1.0 / 128 : 1.0 / 1024);
  }
  torch::Tensor nan = at::full({3}, std::numeric_limits<float>::quiet_NaN()).to(at::kBFloat16);
  EXPECT_TRUE(GeluTanhInPlace(nan).isnan().all().item<bool>());
}

// Each element is x + y * g with the product rounded and then the sum (as
// at::addcmul), or with one rounding (an FMA): nothing else.
void ExpectGatedResidual(const torch::Tensor& got, const torch::Tensor& x, const torch::Tensor& y,
                         const torch::Tensor& gate) {
  const torch::Tensor yf = y.to(torch::kFloat32);
  const torch::Tensor g = gate.defined() ? gate.expand_as(x) : at::ones_like(x);
  const torch::Tensor separate = x + yf * g;
  const torch::Tensor fused =
      (x.to(torch::kFloat64) + yf.to(torch::kFloat64) * g.to(torch::kFloat64)).to(torch::kFloat32);
  ASSERT_EQ(got.scalar_type(), at::kFloat);
  ASSERT_EQ(got.sizes(), x.sizes());
  EXPECT_TRUE(((got == separate) | (got == fused)).all().item<bool>());
  if (gate.defined()) {
    EXPECT_TRUE(at::allclose(got, at::addcmul(x, yf, gate), 1e-6, 1e-6));
  }
}

TEST(FusedOpsTest, GatedResidualIsAddcmulOfTheUpcastBranch) {
  torch::manual_seed(4);
  const int64_t c = 75;  // not a multiple of any vector width
  const torch::Tensor x = at::randn({2, 33, c}) * 4;
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    const torch::Tensor y = (at::randn({2, 33, c}) * 2).to(dtype);
    for (const int64_t rows : {int64_t{1}, int64_t{33}}) {  // per sample and per token gates
      const torch::Tensor gate = at::randn({2, rows, c});
      ExpectGatedResidual(GatedResidual(x, y, gate), x, y, gate);
      torch::Tensor h = x.clone();
      const torch::Tensor& same = GatedResidualInPlace(h, y, gate);
      EXPECT_EQ(same.data_ptr(), h.data_ptr());
      ExpectGatedResidual(h, x, y, gate);
    }
    const torch::Tensor shared = at::randn({1, 1, c});  // one gate row for every sample
    ExpectGatedResidual(GatedResidual(x, y, shared), x, y, shared);
    ExpectGatedResidual(GatedResidual(x, y, at::Tensor()), x, y, at::Tensor());  // no gate: x + y
    EXPECT_THROW(GatedResidual(x, y, at::randn({2, 5, c})), c10::Error);  // 5 rows: neither 1 nor L
    EXPECT_THROW(GatedResidual(x, y, at::randn({2, 1, 1})), c10::Error);  // a gate row shorter than C
    const torch::Tensor x_low = x.to(dtype);  // a low-precision x is promoted, as by addcmul
    ExpectGatedResidual(GatedResidual(x_low, y, shared), x_low.to(at::kFloat), y, shared);
  }
}

TEST(FusedOpsTest, Bf16BlockStaysCloseToTheFloat32Block) {
  torch::manual_seed(3);
  WanConfig c = WanConfig::T2V_1_3B();
  c.dim = 128;
  c.num_heads = 2;
  c.ffn_dim = 256;
  c.text_len = 16;
  WanAttentionBlock f32(c);
  for (auto& p : f32->parameters()) p.data().mul_(0.5);
  WanAttentionBlock bf16(c);
  torch::NoGradGuard no_grad;
  auto src = f32->named_parameters();
  for (auto& p : bf16->named_parameters()) p.value().copy_(src[p.key()]);
  bf16->to(at::kBFloat16);
  const int64_t len = 64;
  const torch::Tensor x = at::randn({1, len, c.dim});
  const TimeRows e0{at::randn({1, 6, c.dim}) * 0.1, {}};
  const torch::Tensor context = at::randn({1, c.text_len, c.dim});
  const torch::Tensor seq_lens = at::tensor({len}, at::kLong);
  const std::vector<RopeTables> rope = {MakeRopeTables(c.head_dim(), {4, 4, 4}, torch::kCPU)};
  const torch::Tensor want = f32->forward(x, e0, seq_lens, rope, context);
  const torch::Tensor got = bf16->forward(x, e0, seq_lens, rope, context);
  // bf16 weights and activations: relative L2 error of a few 1e-3.
  const double rel_l2 = ((got - want).norm() / want.norm()).item<double>();
  EXPECT_LT(rel_l2, 2e-2);
}

}  // namespace
}  // namespace videogen::models

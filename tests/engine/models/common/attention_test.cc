#include "engine/models/common/attention.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::models {
namespace {

double MaxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

struct Case {
  int64_t batch, lq, lk, heads, d, q_block, k_block;
};

class BlockedAttentionTest : public ::testing::TestWithParam<Case> {};

// Every float32 tile path: oneDNN's sgemm or LibTorch's addmm, the fused
// softmax pass or LibTorch ops.
TEST_P(BlockedAttentionTest, MatchesNaiveWithAndWithoutMasks) {
  const Case c = GetParam();
  at::manual_seed(7);
  const at::Tensor q = at::randn({c.batch, c.lq, c.heads, c.d}) * 3;
  const at::Tensor k = at::randn({c.batch, c.lk, c.heads, c.d}) * 3;
  const at::Tensor v = at::randn({c.batch, c.lk, c.heads, c.d});
  std::vector<int64_t> lens;
  for (int64_t b = 0; b < c.batch; ++b) lens.push_back(std::max<int64_t>(1, c.lk - 3 * b - 1));
  AttentionOptions masked;
  masked.key_lens = at::tensor(lens, at::kLong);
  masked.scale = 0.3;
  for (const bool float_gemm : {true, false}) {
    for (const bool fused_softmax : {true, false}) {
      AttentionBlocks blocks{c.q_block, c.k_block};
      blocks.float_gemm = float_gemm;
      blocks.fused_softmax = fused_softmax;
      SCOPED_TRACE(testing::Message() << "float_gemm " << float_gemm << " fused_softmax " << fused_softmax);
      EXPECT_LT(MaxDiff(BlockedAttention(q, k, v, {}, blocks), NaiveAttention(q, k, v)), 2e-5);
      const at::Tensor blocked = BlockedAttention(q, k, v, masked, blocks);
      EXPECT_LT(MaxDiff(blocked, NaiveAttention(q, k, v, masked)), 2e-5);
      // Masked keys really are ignored: changing them changes nothing.
      at::Tensor k2 = k.clone(), v2 = v.clone();
      k2.narrow(1, lens.back(), c.lk - lens.back()).fill_(100.0);
      v2.narrow(1, lens.back(), c.lk - lens.back()).fill_(-100.0);
      const at::Tensor again = BlockedAttention(q, k2, v2, masked, blocks);
      EXPECT_LT(MaxDiff(again[c.batch - 1], blocked[c.batch - 1]), 1e-6);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BlockedAttentionTest,
                         ::testing::Values(Case{1, 7, 5, 1, 4, 256, 2048},   // single block
                                           Case{2, 33, 29, 3, 8, 8, 7},      // ragged blocks
                                           Case{3, 64, 100, 2, 16, 16, 16},  // many key blocks
                                           Case{1, 5, 300, 4, 32, 2, 64},
                                           Case{2, 131, 257, 3, 8, 64, 128},  // lengths not multiples of the blocks
                                           Case{1, 9, 4, 2, 8, 256, 2048}));  // blocks larger than the sequences

TEST(AttentionTest, DefaultPathMatchesNaive) {
  at::manual_seed(3);
  const at::Tensor q = at::randn({2, 40, 2, 16}), k = at::randn({2, 24, 2, 16}), v = at::randn({2, 24, 2, 16});
  AttentionOptions o;
  o.key_lens = at::tensor({24, 11}, at::kLong);
  EXPECT_LT(MaxDiff(Attention(q, k, v, o), NaiveAttention(q, k, v, o)), 2e-5);
}

// bf16 inputs against float32 naive attention on the same (bf16-exact)
// values, with and without masks, across several key blocks (online
// rescaling). Tolerances relative to max |output|, about 3x the error measured
// on this seed: float32 scores (probabilities and output rounded to bf16),
// bf16 scores (rounded by the bf16 QK^T GEMM).
struct Bf16Case {
  ScorePrecision precision;
  double tolerance;
};
class Bf16AttentionTest : public ::testing::TestWithParam<Bf16Case> {};

TEST_P(Bf16AttentionTest, MatchesFloat32NaiveWithinTolerance) {
  at::manual_seed(11);
  const at::Tensor q = at::randn({2, 150, 3, 64}).to(at::kBFloat16);
  const at::Tensor k = at::randn({2, 270, 3, 64}).to(at::kBFloat16);
  const at::Tensor v = at::randn({2, 270, 3, 64}).to(at::kBFloat16);
  AttentionOptions plain, masked;
  plain.score_precision = masked.score_precision = GetParam().precision;
  masked.key_lens = at::tensor({270, 133}, at::kLong);
  for (const AttentionOptions& o : {plain, masked}) {
    AttentionOptions reference = o;
    const at::Tensor expected = NaiveAttention(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), reference);
    const double tolerance = GetParam().tolerance * expected.abs().max().item<double>();
    // Both GEMM paths (bf16 x bf16 -> float32 where this process has it, and
    // the conversion one), each with the fused and the LibTorch-op softmax.
    for (const AttentionBlocks& blocks :
         {AttentionBlocks{64, 100, true, true}, AttentionBlocks{64, 100, false, true},
          AttentionBlocks{64, 100, true, false}, AttentionBlocks{64, 100, false, false}, AttentionBlocks{},
          AttentionBlocks{256, 1024, false, false}}) {
      const at::Tensor got = BlockedAttention(q, k, v, o, blocks);
      ASSERT_EQ(got.scalar_type(), at::kBFloat16);
      EXPECT_LT(MaxDiff(got.to(at::kFloat), expected), tolerance)
          << "blocks " << blocks.query_block << "x" << blocks.key_block << " mixed_gemm " << blocks.mixed_gemm
          << " fused_softmax " << blocks.fused_softmax;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, Bf16AttentionTest,
                         ::testing::Values(Bf16Case{ScorePrecision::kFloat32, 1.2e-2},
                                           Bf16Case{ScorePrecision::kInputDtype, 4e-2}));

// LibTorch >= 2.0: the fused kernel Attention() may choose must agree with the
// reference, with and without key masks, in float32 and (loosely) bf16.
TEST(FusedSdpaAttentionTest, MatchesNaiveWithAndWithoutMasks) {
  if (!HasFusedSdpa()) GTEST_SKIP() << "this LibTorch has no scaled_dot_product_attention";
  at::manual_seed(5);
  const at::Tensor q = at::randn({2, 40, 3, 16}), k = at::randn({2, 70, 3, 16}), v = at::randn({2, 70, 3, 16});
  AttentionOptions masked;
  masked.key_lens = at::tensor({70, 23}, at::kLong);
  for (const AttentionOptions& o : {AttentionOptions{}, masked}) {
    const at::Tensor expected = NaiveAttention(q, k, v, o);
    const at::Tensor got = FusedSdpaAttention(q, k, v, o);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT(MaxDiff(got, expected), 2e-5);
    const at::Tensor got_bf16 = FusedSdpaAttention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), o);
    ASSERT_EQ(got_bf16.scalar_type(), at::kBFloat16);
    EXPECT_LT(MaxDiff(got_bf16.to(at::kFloat), expected), 1.2e-2 * expected.abs().max().item<double>() + 2e-2);
  }
}

TEST(FusedSdpaAttentionTest, ChoiceIsAKernelThisLibTorchHas) {
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    if (ChosenAttentionKernel(c10::DeviceType::CPU, dtype) == AttentionKernel::kFusedSdpa) {
      EXPECT_TRUE(HasFusedSdpa());
    }
  }
  if (!HasFusedSdpa()) {
    EXPECT_EQ(ChosenAttentionKernel(c10::DeviceType::CUDA, at::kBFloat16), AttentionKernel::kBlocked);
  }
}

TEST(AttentionTest, PreservesInputDtype) {
  const at::Tensor q = at::randn({1, 4, 1, 8}).to(at::kBFloat16);
  EXPECT_EQ(Attention(q, q, q).scalar_type(), at::kBFloat16);
}

}  // namespace
}  // namespace videogen::models

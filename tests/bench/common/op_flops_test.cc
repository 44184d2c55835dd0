// CountConvFlops: aten::convolution (conv2d, conv3d, transposed) and a direct
// aten::mkldnn_convolution (the VAE's causal convs) each counted once, with
// the FLOPs of 2 * MACs; videogen::WinogradConv as the convolution it computes.
#include "bench/common/op_flops.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "engine/models/common/onednn_gemm.h"
#include "engine/models/vae/winograd_conv.h"

namespace videogen::bench {
namespace {

TEST(CountConvFlopsTest, Conv2dCountsTwiceItsMultiplyAdds) {
  const c10::InferenceMode inference;
  const at::Tensor x = at::randn({2, 4, 10, 12}), w = at::randn({6, 4, 3, 3});
  // Output [2, 6, 8, 10]; each element: 4 * 3 * 3 multiply-adds.
  EXPECT_DOUBLE_EQ(CountConvFlops([&] { at::conv2d(x, w); }), 2.0 * (2 * 6 * 8 * 10) * (4 * 3 * 3));
}

TEST(CountConvFlopsTest, GroupsDivideTheInputChannels) {
  const c10::InferenceMode inference;
  const at::Tensor x = at::randn({1, 4, 6, 6}), w = at::randn({4, 2, 3, 3});
  EXPECT_DOUBLE_EQ(CountConvFlops([&] { at::conv2d(x, w, {}, 1, 1, 1, /*groups=*/2); }),
                   2.0 * (1 * 4 * 6 * 6) * (2 * 3 * 3));
}

TEST(CountConvFlopsTest, ADirectMkldnnConvolutionCountsOnceAndSoDoesOneInsideConv3d) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch without oneDNN";
  const c10::InferenceMode inference;
  const at::Tensor x = at::randn({1, 8, 4, 6, 7}), w = at::randn({5, 8, 3, 3, 3}), b = at::zeros({5});
  const double expected = 2.0 * (1 * 5 * 2 * 6 * 7) * (8 * 27);  // output [1, 5, 2, 6, 7]
  EXPECT_DOUBLE_EQ(CountConvFlops([&] {
                     at::mkldnn_convolution(x, w, b, {0, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1);
                   }),
                   expected);
  EXPECT_DOUBLE_EQ(CountConvFlops([&] { at::conv3d(x, w, b, 1, {0, 1, 1}); }), expected);
}

TEST(CountConvFlopsTest, AWinogradConvolutionCountsAsTheDirectOne) {
  if (!models::FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  const c10::InferenceMode inference;
  const at::Tensor x = at::randn({2, 8, 5, 6, 7}), w = at::randn({5, 8, 3, 3, 3}), b = at::zeros({5});
  const at::Tensor u = models::vae::WinogradWeights(w);
  const double expected = 2.0 * (2 * 5 * 3 * 6 * 7) * (8 * 27);  // output [2, 5, 3, 6, 7]
  EXPECT_DOUBLE_EQ(CountConvFlops([&] { models::vae::WinogradConv(x, u, 3, b); }), expected);
}

TEST(CountConvFlopsTest, TransposedCountsEachInputElementsScatter) {
  const c10::InferenceMode inference;
  const at::Tensor x = at::randn({1, 3, 5, 5}), w = at::randn({3, 4, 2, 2});  // [in, out, k, k]
  EXPECT_DOUBLE_EQ(CountConvFlops([&] { at::conv_transpose2d(x, w, {}, 2); }), 2.0 * (3 * 5 * 5) * (4 * 2 * 2));
}

TEST(MedianSecondsTest, CallsRepeatsTimesAndGivesZeroForNone) {
  int calls = 0;
  EXPECT_EQ(MedianSeconds([&] { ++calls; }, 0), 0.0);
  EXPECT_EQ(calls, 0);
  EXPECT_GE(MedianSeconds([&] { ++calls; }, 3), 0.0);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace videogen::bench

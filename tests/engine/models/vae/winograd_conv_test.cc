// WinogradConv against the float64 convolution: odd and tiny planes (tiles
// clipped at the edges), one and three temporal taps, more frames than one
// task takes, tile blocks that split tile rows, batch > 1, with and without
// bias; the weight transform; and which arguments it takes.
#include "engine/models/vae/winograd_conv.h"

#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <gtest/gtest.h>

#include "engine/models/common/onednn_gemm.h"
#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/resample.h"

namespace videogen::models::vae {
namespace {

struct Case {
  int64_t batch, c_in, c_out, kt, t_in, h, w;
};

double MaxAbs(const at::Tensor& t) { return t.abs().max().item<double>(); }

TEST(WinogradConvTest, EqualsTheConvolutionUpToFloatRounding) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  at::manual_seed(5);
  const std::vector<Case> cases = {
      {1, 1, 1, 1, 1, 1, 1},   {1, 3, 2, 1, 1, 1, 5},     {1, 2, 3, 1, 2, 5, 1},   {2, 5, 7, 3, 3, 3, 7},
      {1, 37, 19, 3, 9, 8, 8}, {1, 16, 24, 3, 6, 17, 30}, {2, 8, 8, 1, 5, 12, 13}, {1, 4, 6, 3, 4, 2, 2},
  };
  for (const Case& c : cases) {
    const at::Tensor x = at::randn({c.batch, c.c_in, c.t_in, c.h, c.w});
    const at::Tensor weight = at::randn({c.c_out, c.c_in, c.kt, 3, 3}) * 0.2;
    const at::Tensor transformed = WinogradWeights(weight);
    ASSERT_TRUE(WinogradApplies(x, weight, {1, 1, 1}, {0, 1, 1}));
    for (const bool with_bias : {false, true}) {
      const at::Tensor bias = with_bias ? at::randn({c.c_out}) : at::Tensor();
      const at::Tensor reference = at::conv3d(x.to(at::kDouble), weight.to(at::kDouble),
                                              with_bias ? bias.to(at::kDouble) : at::Tensor(), {1, 1, 1}, {0, 1, 1});
      const at::Tensor direct = at::conv3d(x, weight, bias, {1, 1, 1}, {0, 1, 1});
      const double scale = MaxAbs(reference);
      const double direct_error = MaxAbs(direct.to(at::kDouble) - reference) / scale;
      // Tiles per task: one, a few (blocks that start and end inside tile
      // rows), and the default.
      for (const int64_t tiles : {int64_t{1}, int64_t{3}, int64_t{7}, int64_t{0}}) {
        const at::Tensor got = WinogradConv(x, transformed, c.kt, bias, {/*zero_frames=*/0, tiles});
        ASSERT_EQ(got.sizes(), reference.sizes());
        const double error = MaxAbs(got.to(at::kDouble) - reference) / scale;
        EXPECT_LT(error, 2e-6) << "case c_in " << c.c_in << " h " << c.h << " w " << c.w << " kt " << c.kt << " t_in "
                               << c.t_in << " tiles " << tiles << " bias " << with_bias
                               << " (direct float32: " << direct_error << ")";
      }
    }
  }
}

// Frames declared zero are not read: the result is the convolution of the
// input with those frames zeroed, whatever they hold (here noise), for every
// count up to all of them and past kt.
TEST(WinogradConvTest, SkipsTheTapsOfKnownZeroFrames) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  at::manual_seed(6);
  const at::Tensor x = at::randn({1, 6, 7, 9, 10});
  const at::Tensor weight = at::randn({5, 6, 3, 3, 3}) * 0.2, bias = at::randn({5});
  const at::Tensor transformed = WinogradWeights(weight);
  for (const int64_t zeros : {1, 2, 3, 5, 7}) {
    const at::Tensor zeroed = x.clone();
    zeroed.narrow(2, 0, zeros).zero_();
    const at::Tensor reference =
        at::conv3d(zeroed.to(at::kDouble), weight.to(at::kDouble), bias.to(at::kDouble), {1, 1, 1}, {0, 1, 1});
    for (const int64_t tiles : {int64_t{7}, int64_t{0}}) {
      const at::Tensor got = WinogradConv(x, transformed, 3, bias, {zeros, tiles});
      EXPECT_LT(MaxAbs(got.to(at::kDouble) - reference) / MaxAbs(reference), 2e-6)
          << "zero frames " << zeros << " tiles " << tiles;
    }
  }
}

// The weight transform alone: U = G g G^T of a single tap reproduces the
// known transform of a delta kernel (all weight at the centre).
TEST(WinogradConvTest, TransformsACentreDeltaToTheKnownTile) {
  at::Tensor weight = at::zeros({1, 1, 1, 3, 3});
  weight[0][0][0][1][1] = 1.0;
  const at::Tensor u = WinogradWeights(weight).view({4, 4});
  // G e1 = [0, 1/2, -1/2, 0]: U = (G e1)(G e1)^T.
  const at::Tensor g_e = at::tensor({0.0f, 0.5f, -0.5f, 0.0f});
  EXPECT_TRUE(at::equal(u, at::outer(g_e, g_e)));
}

TEST(WinogradConvTest, AppliesOnlyWhereItComputesTheConvolution) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  const at::Tensor x = at::randn({1, 4, 3, 6, 6});
  const at::Tensor w = at::randn({2, 4, 3, 3, 3});
  EXPECT_TRUE(WinogradApplies(x, w, {1, 1, 1}, {0, 1, 1}));
  EXPECT_FALSE(WinogradApplies(x, w, {1, 2, 2}, {0, 1, 1}));                           // strided
  EXPECT_FALSE(WinogradApplies(x, w, {1, 1, 1}, {1, 1, 1}));                           // temporal padding
  EXPECT_FALSE(WinogradApplies(x, w, {1, 1, 1}, {0, 0, 0}));                           // no spatial padding
  EXPECT_FALSE(WinogradApplies(x, at::randn({2, 4, 1, 1, 1}), {1, 1, 1}, {0, 1, 1}));  // 1x1
  EXPECT_FALSE(WinogradApplies(x, at::randn({2, 4, 4, 3, 3}), {1, 1, 1}, {0, 1, 1}));  // kt > frames
  EXPECT_FALSE(WinogradApplies(x, at::randn({2, 5, 3, 3, 3}), {1, 1, 1}, {0, 1, 1}));  // channels differ
  EXPECT_FALSE(WinogradApplies(x.to(at::kDouble), w.to(at::kDouble), {1, 1, 1}, {0, 1, 1}));
  EXPECT_FALSE(WinogradApplies(x, w.to(at::kBFloat16), {1, 1, 1}, {0, 1, 1}));
}

thread_local bool g_winograd_ran = false;

// True when `fn` ran videogen::WinogradConv on this thread.
bool RunsWinograd(const std::function<void()>& fn) {
  g_winograd_ran = false;
  const at::CallbackHandle handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback([](const at::RecordFunction& f) -> std::unique_ptr<at::ObserverContext> {
        if (std::strcmp(f.name(), "videogen::WinogradConv") == 0) g_winograd_ran = true;
        return nullptr;
      }).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return g_winograd_ran;
}

// The causal conv (parameters that require grad, as every module's do) takes
// the Winograd path without autograd, and still computes the reference's
// padded convolution; with autograd it keeps the differentiable one.
TEST(WinogradConvTest, CausalConvUsesItWithoutAutogradAndKeepsItsResult) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  at::manual_seed(9);
  CausalConv3d conv(CausalConv3dOptions{6, 5, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}});
  ASSERT_TRUE(conv->weight.requires_grad());
  const at::Tensor x = at::randn({1, 6, 5, 9, 11});
  EXPECT_FALSE(RunsWinograd([&] { conv->forward(x).sum().backward(); }));
  torch::NoGradGuard no_grad;
  conv->weight.normal_(0, 0.2);
  conv->bias.normal_();
  const at::Tensor padded = at::constant_pad_nd(x, {1, 1, 1, 1, 2, 0}, 0.0);
  const at::Tensor reference =
      at::conv3d(padded.to(at::kDouble), conv->weight.to(at::kDouble), conv->bias.to(at::kDouble));
  at::Tensor got;
  EXPECT_TRUE(RunsWinograd([&] { got = conv->forward(x); }));
  EXPECT_LT(MaxAbs(got.to(at::kDouble) - reference) / MaxAbs(reference), 2e-6);
  conv->weight.mul_(-1);  // new weights are seen
  const at::Tensor flipped =
      at::conv3d(padded.to(at::kDouble), conv->weight.to(at::kDouble), conv->bias.to(at::kDouble));
  EXPECT_LT(MaxAbs(conv->forward(x).to(at::kDouble) - flipped) / MaxAbs(flipped), 2e-6);
}

// The upsampling Resample's 3x3 Conv2d (after the nearest x2) runs as a
// one-tap WinogradConv, frame by frame, with the reference's result.
TEST(WinogradConvTest, UpsamplingResampleUsesIt) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "no oneDNN sgemm in this process";
  at::manual_seed(10);
  Resample resample(8, ResampleMode::kUpsample2d);
  torch::NoGradGuard no_grad;
  for (auto& p : resample->parameters()) p.normal_(0, 0.2);
  const at::Tensor x = at::randn({2, 8, 3, 5, 7});  // [B, C, T, H, W]
  FeatCache cache;
  at::Tensor got;
  EXPECT_TRUE(RunsWinograd([&] { got = resample->forward(x, cache); }));
  // Reference: every frame upsampled (nearest, x2) and convolved in float64.
  const auto params = resample->named_parameters();
  const at::Tensor weight = params["resample.1.weight"].to(at::kDouble),
                   bias = params["resample.1.bias"].to(at::kDouble);
  const at::Tensor frames = x.permute({0, 2, 1, 3, 4}).reshape({6, 8, 5, 7}).to(at::kDouble);
  const at::Tensor up = frames.repeat_interleave(2, 2).repeat_interleave(2, 3);
  const at::Tensor reference = at::conv2d(up, weight, bias, 1, 1).reshape({2, 3, 4, 10, 14}).permute({0, 2, 1, 3, 4});
  ASSERT_EQ(got.sizes(), reference.sizes());
  EXPECT_LT(MaxAbs(got.to(at::kDouble) - reference) / MaxAbs(reference), 2e-6);
}

}  // namespace
}  // namespace videogen::models::vae

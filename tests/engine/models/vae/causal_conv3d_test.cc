// CausalConv3d and its cached call against the reference's arithmetic: the
// padded input is [zero frames, cache frames, x]; a video run chunk by chunk
// through CachedCausalConv equals one convolution of the whole video with two
// zero frames in front, whichever path a chunk takes (one-frame chunks, the
// split of longer chunks), and the cache keeps the reference's frames.
#include "engine/models/vae/causal_conv3d.h"

#include <algorithm>
#include <array>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "engine/models/vae/feat_cache.h"

namespace videogen::models::vae {
namespace {

CausalConv3d MakeConv(int64_t in, int64_t out, std::array<int64_t, 3> kernel, std::array<int64_t, 3> padding) {
  CausalConv3d conv(CausalConv3dOptions{in, out, kernel, {1, 1, 1}, padding});
  const at::NoGradGuard no_grad;
  conv->weight.normal_(0, 0.2);
  conv->bias.normal_(0, 0.1);
  return conv;
}

// The reference's forward: cat(cache, x), then zero frames up to 2 * pad_t.
at::Tensor ReferenceInput(const at::Tensor& x, const at::Tensor& cache, int64_t time_pad) {
  at::Tensor input = x;
  if (cache.defined() && time_pad > 0) {
    input = at::cat({cache, x}, 2);
    time_pad -= cache.size(2);
  }
  if (time_pad > 0) return at::constant_pad_nd(input, {0, 0, 0, 0, time_pad, 0}, 0.0);
  if (time_pad < 0) return input.narrow(2, -time_pad, input.size(2) + time_pad);
  return input;
}

TEST(CausalConv3dTest, CausalInputIsZerosThenCacheThenX) {
  const c10::InferenceMode inference;  // as the engine runs the VAE
  at::manual_seed(1);
  const CausalConv3d conv = MakeConv(3, 4, {3, 3, 3}, {1, 1, 1});
  const at::Tensor x = at::randn({1, 3, 4, 5, 6});
  for (const int64_t cached : {0, 1, 2, 3}) {
    const at::Tensor cache = cached == 0 ? at::Tensor() : at::randn({1, 3, cached, 5, 6});
    const at::Tensor input = conv->CausalInput(x, cache);
    EXPECT_TRUE(at::equal(input, ReferenceInput(x, cache, 2))) << cached << " cached frames";
  }
  const CausalConv3d pointwise = MakeConv(3, 4, {1, 1, 1}, {0, 0, 0});
  EXPECT_TRUE(at::equal(pointwise->CausalInput(x, at::randn({1, 3, 2, 5, 6})), x));  // no time padding: x alone
}

TEST(CausalConv3dTest, ChunkedCachedCallsEqualOneConvolutionOfTheVideo) {
  const c10::InferenceMode inference;
  at::manual_seed(2);
  CausalConv3d conv = MakeConv(4, 5, {3, 3, 3}, {1, 1, 1});
  // Chunk lengths as the decoder's levels see them (1, then 4, ...), plus a
  // 2-frame chunk (not split) and a 3-frame one (split with one tail frame).
  const std::vector<int64_t> chunks = {1, 4, 4, 2, 3, 1};
  int64_t total = 0;
  for (int64_t c : chunks) total += c;
  const at::Tensor video = at::randn({2, 4, total, 6, 7});
  const at::Tensor expected = conv->forward(video);  // two zero frames in front, no cache
  FeatCache cache;
  std::vector<at::Tensor> outs;
  int64_t start = 0;
  for (int64_t c : chunks) {
    cache.Rewind();
    outs.push_back(CachedCausalConv(*conv, video.narrow(2, start, c).clone(), cache));
    start += c;
    // The reference's cache_x: the last two frames seen so far.
    cache.Rewind();
    const FeatCache::Slot& slot = cache.Next();
    ASSERT_TRUE(slot.has_tensor());
    const int64_t keep = std::min<int64_t>(start, kCacheT);
    EXPECT_TRUE(at::equal(slot.value, video.narrow(2, start - keep, keep))) << "after frame " << start;
  }
  const at::Tensor got = at::cat(outs, 2);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5f);
}

// bf16 weights (WanVaeOptions::conv_dtype) on a float32 input: a float32
// result, the convolution of the bf16-rounded input and weights rounded to
// bf16 once; nothing else.
TEST(CausalConv3dTest, Bf16WeightsConvolveTheRoundedInputIntoFloat32) {
  const c10::InferenceMode inference;
  at::manual_seed(3);
  CausalConv3d conv = MakeConv(8, 6, {3, 3, 3}, {1, 1, 1});
  const at::Tensor x = at::randn({1, 8, 3, 5, 6});
  const at::Tensor cache = at::randn({1, 8, 2, 5, 6});
  const at::Tensor input = ReferenceInput(x, cache, 2);
  auto round = [](const at::Tensor& t) { return t.to(at::kBFloat16).to(at::kFloat); };
  const at::Tensor expected =
      round(at::conv3d(round(input), round(conv->weight), round(conv->bias), {1, 1, 1}, {0, 1, 1}));
  conv->to(at::kBFloat16);
  const at::Tensor got = conv->forward(x, cache);
  ASSERT_EQ(got.scalar_type(), at::kFloat);
  ASSERT_EQ(got.sizes(), expected.sizes());
  // Accumulation order may differ from the float32 reference's: within one
  // bf16 rounding step of its value.
  EXPECT_TRUE(at::allclose(got, expected, /*rtol=*/1.0 / 128, /*atol=*/1e-3));
  const at::Tensor full =
      at::conv3d(input, conv->weight.to(at::kFloat), conv->bias.to(at::kFloat), {1, 1, 1}, {0, 1, 1});
  EXPECT_FALSE(at::equal(got, full));  // it did round
}

}  // namespace
}  // namespace videogen::models::vae

// The denoising loop: classifier-free guidance, the single pass at guidance 1,
// explicit timestep lists (few-step sampling).
#include "engine/pipeline/denoise.h"

#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::pipeline {
namespace {

// A flow model that records its calls: the prediction depends on the
// latent, the timestep and the branch, so CFG arithmetic is visible.
struct CountingModel {
  int conditional = 0, unconditional = 0;
  std::vector<float> timesteps;
  std::vector<Expert> experts;  // per call
  FlowModelFn Fn() {
    return [this](const torch::Tensor& latent, const torch::Tensor& t, bool cond,
                  Expert expert) -> absl::StatusOr<torch::Tensor> {
      (cond ? conditional : unconditional)++;
      experts.push_back(expert);
      if (cond) timesteps.push_back(t.to(at::kFloat).item<float>());
      return latent * 0.1 + (cond ? 1.0 : -1.0) * t.to(at::kFloat).item<float>() / 1000;
    };
  }
};

TEST(DenoiseTest, GuidanceRunsTwoPassesPerStepAndGuidanceOneRunsOne) {
  const torch::Tensor noise = at::ones({16, 1, 2, 2});
  DenoiseOptions options;
  options.steps = 5;
  options.guidance_scale = 5.0;
  CountingModel cfg;
  ASSERT_TRUE(Denoise(noise, options, cfg.Fn(), nullptr, nullptr).ok());
  EXPECT_EQ(cfg.conditional, 5);
  EXPECT_EQ(cfg.unconditional, 5);

  options.guidance_scale = 1.0;
  CountingModel single;
  DenoiseTrace trace;
  auto latent = Denoise(noise, options, single.Fn(), nullptr, nullptr, &trace);
  ASSERT_TRUE(latent.ok()) << latent.status();
  EXPECT_EQ(single.conditional, 5);
  EXPECT_EQ(single.unconditional, 0);
  EXPECT_TRUE(trace.noise_pred_uncond.empty());
  // With guidance 1 both ways agree (uncond + 1 * (cond - uncond) == cond up to rounding).
  options.guidance_scale = 1.0 + 1e-12;
  CountingModel both;
  auto two_pass = Denoise(noise, options, both.Fn(), nullptr, nullptr);
  ASSERT_TRUE(two_pass.ok());
  EXPECT_EQ(both.unconditional, 5);
  EXPECT_TRUE(at::allclose(*latent, *two_pass, 1e-5, 1e-6));
}

TEST(DenoiseTest, ExplicitTimestepsRunOneStepEach) {
  DenoiseOptions options;
  options.sampler = schedulers::SamplerKind::kStepDistill;
  options.timesteps = {1000, 750, 500, 250};
  options.steps = 4;
  options.shift = 5.0;
  options.guidance_scale = 1.0;
  CountingModel model;
  std::vector<int> progress;
  auto latent = Denoise(at::ones({16, 1, 2, 2}), options, model.Fn(),
                        [&](int done, int total, Expert) { progress.push_back(done * 10 + total); }, nullptr);
  ASSERT_TRUE(latent.ok()) << latent.status();
  EXPECT_EQ(model.conditional, 4);
  EXPECT_EQ(model.unconditional, 0);
  ASSERT_EQ(model.timesteps.size(), 4u);
  EXPECT_FLOAT_EQ(model.timesteps[0], 1000.0f);
  EXPECT_FLOAT_EQ(model.timesteps[1], 937.5f);
  EXPECT_EQ(progress, (std::vector<int>{14, 24, 34, 44}));
  options.steps = 3;
  EXPECT_EQ(Denoise(at::ones({16, 1, 2, 2}), options, model.Fn(), nullptr, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Wan2.2 A14B: steps at t >= boundary run the high-noise expert with the
// high-noise guidance scale, the rest the low-noise expert; one switch.
TEST(DenoiseTest, ExpertPairSwitchesOnceAtTheBoundaryWithItsGuidance) {
  DenoiseOptions options;
  options.sampler = schedulers::SamplerKind::kStepDistill;
  options.timesteps = {1000, 900, 875, 500};
  options.steps = 4;
  options.shift = 1.0;
  options.guidance_scale = 3.0;
  options.experts = ExpertSwitch{875.0, 4.0};
  CountingModel model;
  DenoiseTrace trace;
  std::vector<Expert> reported;
  auto latent = Denoise(at::ones({16, 1, 2, 2}), options, model.Fn(),
                        [&](int, int, Expert e) { reported.push_back(e); }, nullptr, &trace);
  ASSERT_TRUE(latent.ok()) << latent.status();
  ASSERT_EQ(trace.experts.size(), 4u);
  const std::vector<float> want_t = {1000, 900, 875, 500};
  ASSERT_EQ(model.timesteps.size(), want_t.size());
  for (size_t i = 0; i < want_t.size(); ++i) EXPECT_NEAR(model.timesteps[i], want_t[i], 1e-3) << i;
  const std::vector<Expert> expected = {Expert::kHighNoise, Expert::kHighNoise, Expert::kHighNoise, Expert::kLowNoise};
  EXPECT_EQ(trace.experts, expected);
  EXPECT_EQ(reported, expected);
  // Both passes of a step use its expert.
  EXPECT_EQ(model.experts.size(), 8u);
  for (size_t i = 0; i < model.experts.size(); ++i) EXPECT_EQ(model.experts[i], expected[i / 2]);
  // noise_pred = uncond + g * (cond - uncond) with g = 4 (high) then 3 (low).
  for (size_t i = 0; i < 4; ++i) {
    const double g = i < 3 ? 4.0 : 3.0;
    const torch::Tensor want = trace.noise_pred_uncond[i] + g * (trace.noise_pred_cond[i] - trace.noise_pred_uncond[i]);
    EXPECT_TRUE(at::allclose(trace.noise_pred[i], want)) << "step " << i;
  }
}

// The latent constraint sees the initial latent and every step's result.
TEST(DenoiseTest, ConstraintAppliesToTheInitialLatentAndEveryStep) {
  DenoiseOptions options;
  options.steps = 3;
  CountingModel model;
  DenoiseTrace trace;
  int calls = 0;
  const LatentConstraintFn pin = [&](const torch::Tensor& latent) {
    ++calls;
    torch::Tensor out = latent.clone();
    out.select(1, 0).fill_(7.0);
    return out;
  };
  auto latent = Denoise(at::ones({16, 2, 2, 2}), options, model.Fn(), nullptr, nullptr, &trace, pin);
  ASSERT_TRUE(latent.ok()) << latent.status();
  EXPECT_EQ(calls, 4);
  for (const torch::Tensor& l : trace.latents) EXPECT_TRUE(at::all(l.select(1, 0) == 7.0).item<bool>());
  EXPECT_FALSE(at::all(latent->select(1, 1) == 7.0).item<bool>());
}

}  // namespace
}  // namespace videogen::pipeline

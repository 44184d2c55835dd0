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
  FlowModelFn Fn() {
    return [this](const torch::Tensor& latent, const torch::Tensor& t, bool cond) -> absl::StatusOr<torch::Tensor> {
      (cond ? conditional : unconditional)++;
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
                        [&](int done, int total) { progress.push_back(done * 10 + total); }, nullptr);
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

}  // namespace
}  // namespace videogen::pipeline

// Unit tests of engine/schedulers: argument validation, step-order rules,
// schedule form, the DPM++ first step, and state after failed calls.
#include "engine/schedulers/scheduler.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::schedulers {
namespace {

constexpr SamplerKind kAllKinds[] = {SamplerKind::kUniPC, SamplerKind::kDpmPP, SamplerKind::kEuler,
                                     SamplerKind::kStepDistill};
constexpr SamplerKind kMultistepKinds[] = {SamplerKind::kUniPC, SamplerKind::kDpmPP};

std::unique_ptr<FlowScheduler> MustCreate(SamplerKind kind, const SchedulerOptions& options = {}) {
  auto scheduler = FlowScheduler::Create(kind, options);
  EXPECT_TRUE(scheduler.ok()) << scheduler.status();
  return scheduler.ok() ? std::move(*scheduler) : nullptr;
}

void ExpectInvalidNaming(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(std::string(status.message()).find(field), std::string::npos)
      << "message does not name '" << field << "': " << status.message();
}

// Deterministic inputs of a small latent shape.
torch::Tensor Input(int seed) {
  return at::sin(at::arange(2 * 3 * 4, at::kFloat).reshape({2, 3, 4}) * (0.37 + 0.11 * seed) + seed);
}

TEST(SchedulerOptionsTest, CreateRejectsBadOptionsNamingTheField) {
  for (SamplerKind kind : kAllKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    SchedulerOptions o;
    o.shift = 0;
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "shift");
    o.shift = -1;
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "shift");
    o.shift = std::numeric_limits<double>::quiet_NaN();
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "shift");
    o = {};
    o.solver_order = 3;
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "solver_order");
    o = {};
    o.denoising_strength = 0;
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "denoising_strength");
    o = {};
    o.num_train_timesteps = 1;
    ExpectInvalidNaming(FlowScheduler::Create(kind, o).status(), "num_train_timesteps");
  }
}

TEST(SchedulerOptionsTest, SetTimestepsRejectsBadArgumentsNamingTheField) {
  for (SamplerKind kind : kAllKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    auto s = MustCreate(kind);
    ExpectInvalidNaming(s->SetTimesteps(0, 5.0), "steps");
    ExpectInvalidNaming(s->SetTimesteps(4, 0.0), "shift");
    ExpectInvalidNaming(s->SetTimesteps(4, -2.0), "shift");
    ExpectInvalidNaming(s->SetTimesteps(4, std::numeric_limits<double>::quiet_NaN()), "shift");
    ExpectInvalidNaming(s->SetTimesteps(4, std::numeric_limits<double>::infinity()), "shift");
    EXPECT_EQ(s->num_steps(), 0);
  }
}

TEST(SchedulerOptionsTest, SamplerKindNamesRoundTrip) {
  for (SamplerKind kind : kAllKinds) {
    auto parsed = SamplerKindFromName(SamplerKindName(kind));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kind);
  }
  auto dpmpp = SamplerKindFromName("dpmpp");
  ASSERT_TRUE(dpmpp.ok());
  EXPECT_EQ(*dpmpp, SamplerKind::kDpmPP);
  ExpectInvalidNaming(SamplerKindFromName("ddim").status(), "sample_solver");
  ExpectInvalidNaming(SamplerKindFromName("UniPC").status(), "sample_solver");
}

TEST(SchedulerStepTest, StepBeforeSetTimestepsIsFailedPrecondition) {
  for (SamplerKind kind : kAllKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    auto s = MustCreate(kind);
    EXPECT_EQ(s->Step(Input(0), 0, Input(1)).status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

TEST(SchedulerStepTest, StepIndexOutOfRangeNamesStepIndex) {
  for (SamplerKind kind : kAllKinds) {
    auto s = MustCreate(kind);
    ASSERT_TRUE(s->SetTimesteps(3, 5.0).ok());
    ExpectInvalidNaming(s->Step(Input(0), 3, Input(1)).status(), "step_index");
    ExpectInvalidNaming(s->Step(Input(0), -1, Input(1)).status(), "step_index");
  }
}

TEST(SchedulerStepTest, MismatchedInputsNameTheArgument) {
  auto s = MustCreate(SamplerKind::kUniPC);
  ASSERT_TRUE(s->SetTimesteps(3, 5.0).ok());
  ExpectInvalidNaming(s->Step(Input(0).reshape({6, 4}), 0, Input(1)).status(), "model_output");
  ExpectInvalidNaming(s->Step(Input(0), 0, at::ones({2, 3, 4}, at::kLong)).status(), "sample");
  ExpectInvalidNaming(s->Step(torch::Tensor(), 0, Input(1)).status(), "model_output");
}

TEST(SchedulerStepTest, MultistepSamplersNeedConsecutiveSteps) {
  for (SamplerKind kind : kMultistepKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    auto s = MustCreate(kind);
    ASSERT_TRUE(s->SetTimesteps(5, 5.0).ok());
    auto x = s->Step(Input(0), 0, Input(1));
    ASSERT_TRUE(x.ok()) << x.status();
    EXPECT_EQ(s->Step(Input(2), 2, *x).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s->Step(Input(2), 0, *x).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(s->Step(Input(2), 1, *x).ok());
    // SetTimesteps resets: any first step is accepted again.
    ASSERT_TRUE(s->SetTimesteps(5, 5.0).ok());
    EXPECT_TRUE(s->Step(Input(0), 3, Input(1)).ok());
  }
  // Euler is single-step: any order is fine.
  auto euler = MustCreate(SamplerKind::kEuler);
  ASSERT_TRUE(euler->SetTimesteps(5, 5.0).ok());
  EXPECT_TRUE(euler->Step(Input(0), 3, Input(1)).ok());
  EXPECT_TRUE(euler->Step(Input(0), 1, Input(1)).ok());
}

TEST(SchedulerScheduleTest, TimestepsAreTruncatedSigmasAndSigmasEndWithZero) {
  for (SamplerKind kind : kMultistepKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    auto s = MustCreate(kind);
    const int steps = 7;
    ASSERT_TRUE(s->SetTimesteps(steps, 3.0).ok());
    const torch::Tensor t = s->timesteps();
    const torch::Tensor sig = s->sigmas();
    ASSERT_EQ(t.scalar_type(), at::kLong);
    ASSERT_EQ(sig.scalar_type(), at::kFloat);
    ASSERT_EQ(t.numel(), steps);
    ASSERT_EQ(sig.numel(), steps + 1);
    EXPECT_EQ(sig[steps].item<float>(), 0.0f);
    for (int i = 0; i < steps; ++i) {
      const double scaled = static_cast<double>(sig[i].item<float>()) * 1000.0;
      const int64_t ti = t[i].item<int64_t>();
      // int64 truncation of sigma * N (sigma computed in float64, stored as
      // float32: the float32 value may sit just across an integer).
      EXPECT_LE(std::abs(static_cast<double>(ti) - std::trunc(scaled)), 1.0) << i;
      EXPECT_GT(sig[i].item<float>(), sig[i + 1].item<float>()) << "sigmas decrease at " << i;
      if (i > 0) {
        EXPECT_LE(ti, t[i - 1].item<int64_t>());
      }
    }
  }
  // DPM++ with the pipelines' constructor shift 1 starts at sigma 1 exactly.
  auto dpm = MustCreate(SamplerKind::kDpmPP);
  ASSERT_TRUE(dpm->SetTimesteps(4, 5.0).ok());
  EXPECT_EQ(dpm->sigmas()[0].item<float>(), 1.0f);
  EXPECT_EQ(dpm->timesteps()[0].item<int64_t>(), 1000);
  // shift 1: linspace(1, 0, 5)[:4] -> 1, .75, .5, .25 -> timesteps 1000, 750, 500, 250.
  ASSERT_TRUE(dpm->SetTimesteps(4, 1.0).ok());
  EXPECT_TRUE(at::equal(dpm->timesteps(), at::tensor(std::vector<int64_t>{1000, 750, 500, 250})));
}

TEST(SchedulerStepTest, DpmPPFirstStepIsFirstOrderAndFinite) {
  auto s = MustCreate(SamplerKind::kDpmPP);
  ASSERT_TRUE(s->SetTimesteps(4, 5.0).ok());
  ASSERT_EQ(s->sigmas()[0].item<float>(), 1.0f);  // lambda(1) = -inf
  const torch::Tensor v = Input(0), x = Input(1);
  auto out = s->Step(v, 0, x);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(at::isfinite(*out).all().item<bool>());
  // First order with sigma_s0 = 1: x_t = sigma_t * x + (1 - sigma_t) * x0, x0 = x - v.
  const float sigma_t = s->sigmas()[1].item<float>();
  const torch::Tensor expected = sigma_t * x + (1 - sigma_t) * (x - v);
  EXPECT_TRUE(at::allclose(*out, expected, 1e-6, 1e-6)) << (*out - expected).abs().max().item<float>();
  // The second (second-order) step after the infinite lambda is finite too.
  auto next = s->Step(Input(2), 1, *out);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(at::isfinite(*next).all().item<bool>());
}

// Runs `steps` consecutive steps with deterministic model outputs, calling
// `between` before each step after the first.
template <typename Fn>
torch::Tensor RunSteps(FlowScheduler& s, int steps, Fn between) {
  torch::Tensor x = Input(100);
  for (int i = 0; i < steps; ++i) {
    if (i > 0) between(i, x);
    auto next = s.Step(Input(i), i, x);
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) return torch::Tensor();
    x = *next;
  }
  return x;
}

TEST(SchedulerStateTest, FailedCallsLeaveTheStateUnchanged) {
  for (SamplerKind kind : kAllKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    const int steps = 5;
    auto clean = MustCreate(kind);
    ASSERT_TRUE(clean->SetTimesteps(steps, 5.0).ok());
    const torch::Tensor reference = RunSteps(*clean, steps, [](int, const torch::Tensor&) {});
    ASSERT_TRUE(reference.defined());

    auto noisy = MustCreate(kind);
    ASSERT_TRUE(noisy->SetTimesteps(steps, 5.0).ok());
    FlowScheduler* n = noisy.get();
    const torch::Tensor result = RunSteps(*n, steps, [n, steps](int i, const torch::Tensor& x) {
      // Every kind of failure between two valid steps.
      EXPECT_FALSE(n->SetTimesteps(0, 5.0).ok());
      EXPECT_FALSE(n->SetTimesteps(steps, -1.0).ok());
      EXPECT_FALSE(n->Step(Input(i).reshape({-1}), i, x).ok());
      EXPECT_FALSE(n->Step(Input(i), steps, x).ok());
      EXPECT_FALSE(n->Step(Input(i), i, at::zeros_like(x, at::kInt)).ok());
      if (std::find(std::begin(kMultistepKinds), std::end(kMultistepKinds), n->kind()) != std::end(kMultistepKinds)) {
        EXPECT_FALSE(n->Step(Input(i), i + 1, x).ok());
      }
    });
    ASSERT_TRUE(result.defined());
    EXPECT_TRUE(at::equal(result, reference));
    EXPECT_EQ(noisy->num_steps(), steps);
  }
}

TEST(SchedulerStateTest, SetTimestepsResetsTheMultistepState) {
  for (SamplerKind kind : kAllKinds) {
    SCOPED_TRACE(SamplerKindName(kind));
    auto a = MustCreate(kind);
    ASSERT_TRUE(a->SetTimesteps(4, 5.0).ok());
    const torch::Tensor first = RunSteps(*a, 4, [](int, const torch::Tensor&) {});
    ASSERT_TRUE(a->SetTimesteps(4, 5.0).ok());
    const torch::Tensor second = RunSteps(*a, 4, [](int, const torch::Tensor&) {});
    EXPECT_TRUE(at::equal(first, second));
  }
}

// The step-distill sampler, checked against its definition (LightX2V's
// WanStepDistillScheduler) evaluated here independently in float32: grid
// sigma_j = 1 - j/1000, shifted s*g/(1+(s-1)g), sampled at index 1000 - t;
// x <- (x - sigma_i v) + sigma_{i+1} v, the last step x - sigma_i v.
TEST(StepDistillTest, FourStepScheduleAndStepsFollowTheDefinition) {
  const double shift = 5.0;
  SchedulerOptions options;
  options.timestep_list = {1000, 750, 500, 250};
  auto scheduler = MustCreate(SamplerKind::kStepDistill, options);
  ASSERT_NE(scheduler, nullptr);
  ASSERT_TRUE(scheduler->SetTimesteps(4, shift).ok());
  std::vector<float> sigma;
  for (int t : options.timestep_list) {
    const float g = static_cast<float>(at::linspace(1.0, 0.0, 1001, at::kFloat)[1000 - t].item<float>());
    sigma.push_back(static_cast<float>(shift * g / (1 + (shift - 1) * g)));
  }
  EXPECT_NEAR(sigma[1], 0.9375f, 1e-6);  // 5 * 0.75 / (1 + 4 * 0.75)
  EXPECT_NEAR(sigma[3], 0.625f, 1e-6);   // 5 * 0.25 / (1 + 4 * 0.25)
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(scheduler->sigmas()[i].item<float>(), sigma[i]) << i;
    EXPECT_FLOAT_EQ(scheduler->timesteps()[i].item<float>(), sigma[i] * 1000) << i;
  }
  EXPECT_EQ(scheduler->timesteps().scalar_type(), at::kFloat);
  torch::Tensor x = Input(1);
  for (int i = 0; i < 4; ++i) {
    const torch::Tensor v = Input(10 + i);
    torch::Tensor expected = x - sigma[i] * v;
    if (i < 3) expected = expected + v * sigma[i + 1];
    auto next = scheduler->Step(v, i, x);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_TRUE(at::allclose(*next, expected, 1e-6, 1e-6)) << i;
    x = *next;
  }
}

TEST(StepDistillTest, DefaultListIsLightX2VsAndBadListsAreRefused) {
  auto derived = MustCreate(SamplerKind::kStepDistill);
  SchedulerOptions explicit_options;
  explicit_options.timestep_list = {1000, 750, 500, 250};
  auto given = MustCreate(SamplerKind::kStepDistill, explicit_options);
  ASSERT_TRUE(derived->SetTimesteps(4, 5.0).ok());
  ASSERT_TRUE(given->SetTimesteps(4, 5.0).ok());
  EXPECT_TRUE(at::equal(derived->timesteps(), given->timesteps()));
  ExpectInvalidNaming(given->SetTimesteps(3, 5.0), "steps");
  SchedulerOptions rising;
  rising.timestep_list = {500, 750};
  ExpectInvalidNaming(FlowScheduler::Create(SamplerKind::kStepDistill, rising).status(), "timesteps");
  SchedulerOptions zero;
  zero.timestep_list = {1000, 0};
  ExpectInvalidNaming(FlowScheduler::Create(SamplerKind::kStepDistill, zero).status(), "timesteps");
  ExpectInvalidNaming(FlowScheduler::Create(SamplerKind::kUniPC, explicit_options).status(), "timesteps");
}

}  // namespace
}  // namespace videogen::schedulers

// GPU tests (label gpu): the engine on CUDA, judged by the golden fixtures.
// Each test skips cleanly without a CUDA device (and in CPU-only LibTorch builds).
#include <cstdlib>
#include <string>

#include <torch/cuda.h>
#include <torch/types.h>

#include <gtest/gtest.h>

#include "engine/common/runtime.h"
#include "engine/verify/verify.h"

namespace videogen::verify {
namespace {

std::string GoldenDir() {
  const char* env = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return env ? env : "../shared/golden";
}

class VerifyCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    ASSERT_TRUE(ConfigureTorchRuntime({}).ok());  // TF32 off: float32 is IEEE float32
  }
  static RunOptions OnCuda(WeightDType dtype = WeightDType::kFp32) {
    RunOptions options;
    options.device = torch::Device(torch::kCUDA, 0);
    options.weight_dtype = dtype;
    return options;
  }
};

// The DiT forward in float32 on the GPU meets the fixture's own tolerances,
// and so does the CPU run of the same fixture; both are compared with the
// same reference, so the two devices agree to within twice the tolerance.
TEST_F(VerifyCudaTest, DitFixturesPassOnCudaInFloat32) {
  for (const char* name : {"dit_t2v", "dit_i2v", "dit_ti2v_5b"}) {
    const FixtureResult gpu = VerifyFixture(GoldenDir() + "/" + name, OnCuda());
    EXPECT_TRUE(gpu.error.empty()) << name << ": " << gpu.error;
    EXPECT_TRUE(gpu.pass) << FormatResult(gpu);
    const FixtureResult cpu = VerifyFixture(GoldenDir() + "/" + name, RunOptions{});
    EXPECT_TRUE(cpu.pass) << FormatResult(cpu);
  }
}

// The VAE and CLIP encoders and a whole tiny pipeline (T5, CLIP, DiT, VAE,
// UniPC) in float32 on the GPU meet the fixtures' tolerances.
TEST_F(VerifyCudaTest, EncodersVaeAndPipelinePassOnCuda) {
  for (const char* name : {"t5_encoder", "clip_visual", "vae_decode", "pipeline_i2v"}) {
    const FixtureResult r = VerifyFixture(GoldenDir() + "/" + name, OnCuda());
    EXPECT_TRUE(r.pass) << FormatResult(r);
  }
}

// fp8 weights and bf16 compute on the GPU stay within the fp8 fidelity goal.
TEST_F(VerifyCudaTest, Fp8AndBf16DitWithinTheGoalOnCuda) {
  for (const WeightDType dtype : {WeightDType::kFp8, WeightDType::kBf16}) {
    const FixtureResult r = VerifyFixture(GoldenDir() + "/dit_t2v", OnCuda(dtype));
    EXPECT_EQ(r.judgement, Judgement::kFp8Goal);
    EXPECT_TRUE(r.pass) << FormatResult(r);
    EXPECT_GT(r.worst_rel_l2, 0.0) << "a reduced-precision run cannot be exact";
  }
}

}  // namespace
}  // namespace videogen::verify

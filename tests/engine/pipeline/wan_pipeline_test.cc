#include "engine/pipeline/wan_pipeline.h"

#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/common/status_macros.h"
#include "engine/pipeline/flf2v_conditioning.h"
#include "engine/verify/runners.h"
#include "tests/support/golden.h"

namespace videogen::pipeline {
namespace {

// The tiny components of a golden pipeline fixture (the verifier's loader).
absl::StatusOr<WanPipelineParts> FixtureParts(const std::string& fixture) {
  ASSIGN_OR_RETURN(const verify::Fixture f, verify::LoadFixture(videogen::testing::GoldenDir() + "/" + fixture));
  return verify::LoadPipelineParts(f, {});
}

torch::Tensor Frame(int64_t h, int64_t w, int64_t seed) {
  return torch::arange(h * w * 3, torch::kInt64).add(seed).mul(37).remainder(251).view({h, w, 3}).to(torch::kUInt8);
}

class FirstLastFramePipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto parts = FixtureParts("pipeline_flf2v");
    ASSERT_TRUE(parts.ok()) << parts.status();
    auto pipe = WanPipeline::Create(std::move(*parts));
    ASSERT_TRUE(pipe.ok()) << pipe.status();
    pipe_ = pipe->release();
  }
  static void TearDownTestSuite() {
    delete pipe_;
    pipe_ = nullptr;
  }
  static PipelineRequest Request() {
    PipelineRequest r;
    r.prompt = "a paper boat";
    r.negative_prompt = kFLF2VNegativePrompt;
    r.num_frames = 81;
    r.max_area = 960;
    r.image = Frame(36, 64, 1);
    r.last_image = Frame(36, 64, 2);
    r.denoise.steps = 1;
    r.seed = 7;
    return r;
  }
  static WanPipeline* pipe_;
};
WanPipeline* FirstLastFramePipelineTest::pipe_ = nullptr;

TEST_F(FirstLastFramePipelineTest, IsAFirstLastFramePipeline) {
  ASSERT_NE(pipe_, nullptr);
  EXPECT_EQ(pipe_->kind(), PipelineKind::kFirstLastFrameToVideo);
  auto g = pipe_->Geometry(Request());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->latent_t, 21);
  EXPECT_EQ(g->latent_h, 2);
  EXPECT_EQ(g->latent_w, 4);
}

TEST_F(FirstLastFramePipelineTest, RefusesOtherFrameCountsNamingNumFrames) {
  ASSERT_NE(pipe_, nullptr);
  PipelineRequest r = Request();
  r.num_frames = 77;
  auto video = pipe_->Run(r, nullptr, nullptr);
  EXPECT_EQ(video.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(video.status().message().rfind("num_frames: 77", 0), 0u) << video.status();
}

TEST_F(FirstLastFramePipelineTest, RefusesAMissingLastFrameNamingIt) {
  ASSERT_NE(pipe_, nullptr);
  PipelineRequest r = Request();
  r.last_image = torch::Tensor();
  auto g = pipe_->Geometry(r);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().message().rfind("last_image: ", 0), 0u) << g.status();
  r = Request();
  r.image = torch::zeros({36, 64, 3}, torch::kFloat32);
  EXPECT_EQ(pipe_->Geometry(r).status().message().rfind("image: ", 0), 0u);
}

TEST_F(FirstLastFramePipelineTest, DifferentlySizedLastFrameIsCroppedThenConditions) {
  ASSERT_NE(pipe_, nullptr);
  PipelineRequest r = Request();
  r.last_image = Frame(48, 48, 2);  // padded to 64x64 (r = 4/3), then resized to 16x32
  PipelineTrace trace;
  auto video = pipe_->Run(r, nullptr, nullptr, &trace);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->sizes(), torch::IntArrayRef({3, 81, 16, 32}));
  EXPECT_EQ(trace.clip_pixel_values.sizes(), torch::IntArrayRef({2, 3, 16, 16}));
  EXPECT_EQ(trace.clip_fea.sizes(), torch::IntArrayRef({2, 257, 1280}));
  ASSERT_EQ(trace.y.sizes(), torch::IntArrayRef({20, 21, 2, 4}));
  EXPECT_TRUE(at::equal(trace.y.slice(0, 0, 4), FirstLastFrameMask(trace.geometry)));
  const torch::Tensor cropped = CropLastFrame(ImageToTensor(r.last_image), 64, 36);
  EXPECT_TRUE(at::equal(trace.vae_cond_video.select(1, 80), ResizeToVideo(cropped, trace.geometry)));
  // CLIP sees the crop: its pixels differ from those of the uncropped frame.
  auto uncropped = pipe_->parts().clip->Preprocess({ImageToTensor(r.last_image).unsqueeze(1)});
  ASSERT_TRUE(uncropped.ok());
  auto expected = pipe_->parts().clip->Preprocess({cropped.unsqueeze(1)});
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(at::allclose(trace.clip_pixel_values[1], (*expected)[0]));
  EXPECT_FALSE(at::allclose(trace.clip_pixel_values[1], (*uncropped)[0]));
  EXPECT_EQ(trace.denoise.latents.size(), 2u);
}

}  // namespace
}  // namespace videogen::pipeline

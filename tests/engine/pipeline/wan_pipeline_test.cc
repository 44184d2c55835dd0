#include "engine/pipeline/wan_pipeline.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/pipeline/flf2v_conditioning.h"

namespace videogen::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path GoldenDir(const std::string& fixture) {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return fs::path(dir != nullptr && *dir != '\0' ? dir : "../shared/golden") / fixture;
}

// The tiny components of a golden pipeline fixture (its config and weights).
absl::StatusOr<WanPipelineParts> FixtureParts(const std::string& fixture) {
  const fs::path dir = GoldenDir(fixture);
  std::ifstream file(dir / "fixture.json");
  if (!file) return absl::NotFoundError((dir / "fixture.json").string());
  const json meta = json::parse(file);
  const json& config = meta["config"];
  const json& weights = meta["weights"];
  WanPipelineParts parts;
  auto dit = models::WanConfig::FromJson(config["dit"]);
  if (!dit.ok()) return dit.status();
  parts.dit = models::WanModel(*dit, quant::ParamInit::kUninitialized);
  auto dit_source = io::OpenCheckpoint((dir / weights["dit"].get<std::string>()).string());
  if (!dit_source.ok()) return dit_source.status();
  if (auto s = models::LoadStateDict(*parts.dit, **dit_source, {}); !s.ok()) return s;
  models::T5EncoderModelOptions t5;
  auto t5_config = models::T5Config::FromJson(config["t5"]);
  if (!t5_config.ok()) return t5_config.status();
  t5.config = *t5_config;
  t5.checkpoint_path = (dir / weights["t5"].get<std::string>()).string();
  t5.tokenizer_path = (dir / meta["tokenizer_model"].get<std::string>()).string();
  t5.dtype = torch::kFloat32;
  auto text_encoder = models::T5EncoderModel::Create(t5);
  if (!text_encoder.ok()) return text_encoder.status();
  parts.text_encoder = std::move(*text_encoder);
  models::vae::WanVaeOptions vae;
  auto vae_config = models::vae::VaeConfig::FromJson(config["vae"]);
  if (!vae_config.ok()) return vae_config.status();
  vae.config = *vae_config;
  auto wan_vae = models::vae::WanVae::Open((dir / weights["vae"].get<std::string>()).string(), vae);
  if (!wan_vae.ok()) return wan_vae.status();
  parts.vae = std::move(*wan_vae);
  models::ClipVisualOptions clip;
  auto clip_config = models::ClipVisionConfig::FromJson(config["clip"]);
  if (!clip_config.ok()) return clip_config.status();
  clip.config = *clip_config;
  clip.checkpoint_path = (dir / weights["clip"].get<std::string>()).string();
  auto clip_visual = models::ClipVisual::Create(clip);
  if (!clip_visual.ok()) return clip_visual.status();
  parts.clip = std::move(*clip_visual);
  return parts;
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

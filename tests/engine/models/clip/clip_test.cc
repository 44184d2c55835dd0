#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/golden.h"
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_source.h"
#include "engine/models/clip/clip_config.h"
#include "engine/models/clip/clip_visual.h"

namespace videogen::models {
namespace {

namespace fs = std::filesystem;

using testing::GoldenDir;
using testing::ReadTensor;
using testing::RelL2;

double MaxAbs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

ClipVisionConfig FixtureConfig(const std::string& fixture, const char* key = nullptr) {
  std::ifstream in(GoldenDir() + "/" + fixture + "/fixture.json");
  const nlohmann::json meta = nlohmann::json::parse(in);
  const nlohmann::json& config = key ? meta["config"][key] : meta["config"];
  auto c = ClipVisionConfig::FromJson(config);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

// A copy of `source` without the tensors `drop` selects, plus `extra`.
class FilteredCheckpoint {
 public:
  FilteredCheckpoint(const io::TensorSource& source, const std::function<bool(const std::string&)>& drop,
                     std::vector<io::NamedTensor> extra = {})
      : path_((fs::temp_directory_path() / ("vg_clip_" + std::to_string(::getpid()) + ".safetensors")).string()) {
    for (const io::TensorInfo& info : source.tensors()) {
      if (!drop(info.name)) extra.push_back({info.name, source.Read(info.name)->clone()});
    }
    EXPECT_TRUE(io::WriteSafetensors(path_, std::move(extra)).ok());
  }
  ~FilteredCheckpoint() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<ClipVisual> CreateGolden(torch::ScalarType dtype = torch::kFloat32) {
  ClipVisualOptions o;
  o.checkpoint_path = GoldenDir() + "/clip_visual/weights.safetensors";
  o.config = FixtureConfig("clip_visual");
  o.dtype = dtype;
  auto clip = ClipVisual::Create(o);
  EXPECT_TRUE(clip.ok()) << clip.status();
  return clip.ok() ? std::move(*clip) : nullptr;
}

TEST(ClipVisionConfigTest, PresetAndFixtureKwargs) {
  const ClipVisionConfig h = ClipVisionConfig::VitHuge14();
  EXPECT_EQ(h.image_size, 224);
  EXPECT_EQ(h.patch_size, 14);
  EXPECT_EQ(h.vision_dim, 1280);
  EXPECT_EQ(h.mlp_dim(), 5120);
  EXPECT_EQ(h.vision_heads, 16);
  EXPECT_EQ(h.vision_layers, 32);
  EXPECT_EQ(h.num_tokens(), 257);
  EXPECT_EQ(h.blocks_used(), 31);
  EXPECT_EQ(h.activation, ClipActivation::kGelu);

  const ClipVisionConfig tiny = FixtureConfig("clip_visual");
  EXPECT_EQ(tiny.image_size, 56);
  EXPECT_EQ(tiny.vision_dim, 32);
  EXPECT_EQ(tiny.num_tokens(), 17);
  EXPECT_EQ(tiny.blocks_used(), 2);
}

TEST(ClipVisionConfigTest, RejectsBadFieldsByName) {
  auto act = ClipVisionConfig::FromJson({{"activation", "swi_glu"}});
  ASSERT_EQ(act.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(act.status().message().find("config.activation"), std::string::npos) << act.status();
  auto heads = ClipVisionConfig::FromJson({{"vision_dim", 30}, {"vision_heads", 4}});
  ASSERT_EQ(heads.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(heads.status().message().find("config.vision_heads"), std::string::npos) << heads.status();
  auto pool = ClipVisionConfig::FromJson({{"vision_pool", "mean"}});
  ASSERT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pool.status().message().find("config.vision_pool"), std::string::npos) << pool.status();
}

TEST(ClipVisualTest, PreprocessResizesAndNormalisesWithClipMeanStd) {
  auto clip = CreateGolden();
  ASSERT_NE(clip, nullptr);
  // A constant video stays constant under bicubic resizing: value v in [-1, 1]
  // becomes ((v * 0.5 + 0.5) - mean_c) / std_c per channel.
  const std::vector<double> v = {-1.0, 0.0, 0.5};
  torch::Tensor video = at::empty({3, 2, 20, 30});
  for (int c = 0; c < 3; ++c) video[c].fill_(v[c]);
  auto pixels = clip->Preprocess({video, at::zeros({3, 1, 70, 56})});
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  ASSERT_EQ(pixels->sizes(), (std::vector<int64_t>{3, 3, 56, 56}));
  EXPECT_EQ(pixels->scalar_type(), torch::kFloat32);
  for (int c = 0; c < 3; ++c) {
    const double expected = ((v[c] * 0.5 + 0.5) - kClipMean[c]) / kClipStd[c];
    for (int frame = 0; frame < 2; ++frame) {
      EXPECT_NEAR((*pixels)[frame][c].min().item<double>(), expected, 1e-5) << "channel " << c;
      EXPECT_NEAR((*pixels)[frame][c].max().item<double>(), expected, 1e-5) << "channel " << c;
    }
    EXPECT_NEAR((*pixels)[2][c].mean().item<double>(), (0.5 - kClipMean[c]) / kClipStd[c], 1e-5);
  }
}

TEST(ClipVisualTest, PreprocessRejectsWrongChannelCount) {
  auto clip = CreateGolden();
  ASSERT_NE(clip, nullptr);
  auto pixels = clip->Preprocess({at::zeros({3, 1, 8, 8}), at::zeros({4, 1, 8, 8})});
  ASSERT_EQ(pixels.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pixels.status().message().find("videos[1]"), std::string::npos) << pixels.status();
}

TEST(ClipVisualTest, Float32MatchesGoldenFeatures) {
  auto clip = CreateGolden();
  ASSERT_NE(clip, nullptr);
  const std::string dir = GoldenDir() + "/clip_visual";
  const torch::Tensor video = ReadTensor(dir + "/inputs.safetensors", "video_0");
  auto pixels = clip->Preprocess({video});
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  const torch::Tensor expected_pixels = ReadTensor(dir + "/outputs.safetensors", "pixel_values");
  EXPECT_LE(MaxAbs(*pixels, expected_pixels), 1e-3);
  EXPECT_LE(RelL2(*pixels, expected_pixels), 1e-4);
  auto features = clip->EncodePixels(*pixels);
  ASSERT_TRUE(features.ok()) << features.status();
  const torch::Tensor expected = ReadTensor(dir + "/outputs.safetensors", "features");
  ASSERT_EQ(features->sizes(), expected.sizes());
  EXPECT_LE(MaxAbs(*features, expected), 2e-3);
  EXPECT_LE(RelL2(*features, expected), 1e-4);
}

TEST(ClipVisualTest, Bfloat16WeightsAreCloseToFloat32) {
  auto fp32 = CreateGolden();
  auto bf16 = CreateGolden(torch::kBFloat16);
  ASSERT_NE(fp32, nullptr);
  ASSERT_NE(bf16, nullptr);
  const torch::Tensor video = ReadTensor(GoldenDir() + "/clip_visual/inputs.safetensors", "video_0");
  auto ref = fp32->Encode({video});
  auto out = bf16->Encode({video});
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->scalar_type(), torch::kBFloat16);
  // Measured on this fixture: rel_l2 0.0075, max_abs 0.047 (|ref| <= 5.16);
  // limits ~3x that.
  const double rel = RelL2(*out, *ref);
  EXPECT_LE(rel, 0.02);
  EXPECT_LE(MaxAbs(*out, *ref), 0.15);
  EXPECT_GT(rel, 0.0);
}

TEST(ClipVisualTest, RejectsFloat16OnCpu) {
  ClipVisualOptions o;
  o.checkpoint_path = GoldenDir() + "/clip_visual/weights.safetensors";
  o.config = FixtureConfig("clip_visual");
  o.dtype = torch::kHalf;
  auto clip = ClipVisual::Create(o);
  ASSERT_EQ(clip.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(clip.status().message().find("dtype: float16 needs a CUDA device"), std::string::npos) << clip.status();
}

TEST(ClipVisualTest, BlocklessCheckpointOfPipelineFixtureLoads) {
  // pipeline_i2v: vision_layers 1 -> zero blocks run; clip.safetensors holds
  // only patch_embedding, cls/pos embeddings and pre_norm.
  const std::string dir = GoldenDir() + "/pipeline_i2v";
  ClipVisualOptions o;
  o.checkpoint_path = dir + "/clip.safetensors";
  o.config = FixtureConfig("pipeline_i2v", "clip");
  ASSERT_EQ(o.config.blocks_used(), 0);
  auto clip = ClipVisual::Create(o);
  ASSERT_TRUE(clip.ok()) << clip.status();

  // image_u8 [H0, W0, 3] -> to_tensor * 2 - 1 -> [3, 1, H0, W0], as the i2v pipeline.
  const torch::Tensor u8 = ReadTensor(dir + "/inputs.safetensors", "image_u8");
  const torch::Tensor img = u8.permute({2, 0, 1}).to(torch::kFloat32).div(255.0).sub(0.5).div(0.5).unsqueeze(1);
  auto pixels = (*clip)->Preprocess({img});
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  auto features = (*clip)->EncodePixels(*pixels);
  ASSERT_TRUE(features.ok()) << features.status();
  const torch::Tensor expected_pixels = ReadTensor(dir + "/outputs.safetensors", "clip_pixel_values");
  const torch::Tensor expected = ReadTensor(dir + "/outputs.safetensors", "clip_fea");
  ASSERT_EQ(features->sizes(), expected.sizes());
  EXPECT_LE(MaxAbs(*pixels, expected_pixels), 2e-3);
  EXPECT_LE(MaxAbs(*features, expected), 2e-3);
  EXPECT_LE(RelL2(*features, expected), 1e-4);
}

TEST(ClipVisualTest, UnusedLastBlockPostNormAndHeadMayBeAbsent) {
  auto full = testing::OpenOrFail(GoldenDir() + "/clip_visual/weights.safetensors");
  FilteredCheckpoint trimmed(*full, [](const std::string& name) {
    return name.rfind("visual.transformer.2.", 0) == 0 || name.rfind("visual.post_norm.", 0) == 0 ||
           name == "visual.head" || name.rfind("textual.", 0) == 0 || name == "log_scale";
  });
  ClipVisualOptions o;
  o.checkpoint_path = trimmed.path();
  o.config = FixtureConfig("clip_visual");
  auto clip = ClipVisual::Create(o);
  EXPECT_TRUE(clip.ok()) << clip.status();
}

TEST(ClipVisualTest, MissingVisualKeyIsNamed) {
  auto full = testing::OpenOrFail(GoldenDir() + "/clip_visual/weights.safetensors");
  FilteredCheckpoint partial(*full, [](const std::string& name) { return name == "visual.transformer.1.mlp.2.bias"; });
  ClipVisualOptions o;
  o.checkpoint_path = partial.path();
  o.config = FixtureConfig("clip_visual");
  auto clip = ClipVisual::Create(o);
  ASSERT_EQ(clip.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(clip.status().message().find("missing keys: visual.transformer.1.mlp.2.bias"), std::string::npos)
      << clip.status();
}

TEST(ClipVisualTest, UnknownVisualKeyIsUnexpected) {
  auto full = testing::OpenOrFail(GoldenDir() + "/clip_visual/weights.safetensors");
  FilteredCheckpoint extra(*full, [](const std::string&) { return false; }, {{"visual.extra", at::ones({2})}});
  ClipVisualOptions o;
  o.checkpoint_path = extra.path();
  o.config = FixtureConfig("clip_visual");
  auto clip = ClipVisual::Create(o);
  ASSERT_EQ(clip.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(clip.status().message().find("unexpected keys: visual.extra"), std::string::npos) << clip.status();
}

}  // namespace
}  // namespace videogen::models

// WanGenerator over a ComfyUI-layout directory: the embedded tiny model
// rewritten as ComfyUI single files (prefixed DiT without config.json, umT5 in
// HF naming, safetensors VAE, spiece.model) generates exactly what the
// official layout generates. (Lives beside the io tests of the layout.)
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/io/model_dir.h"
#include "engine/pipeline/tiny_model.h"
#include "engine/pipeline/wan_generator.h"
#include "tests/engine/io/comfy_test_util.h"

namespace videogen::pipeline {
namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in) << p;
  return nlohmann::json::parse(in);
}

class ComfyGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(ModelType::kT2V); }

  // The tiny model of `type` in both layouts (official_, comfy_); an expert
  // pair as ComfyUI's wan2.2_*_high_noise / _low_noise files.
  void Build(ModelType type, bool expert_pair = false) {
    root_ = fs::temp_directory_path() / ("vg_comfygen_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    TinyModelOptions tiny;
    tiny.type = type;
    tiny.expert_pair = expert_pair;
    auto dir = EnsureTinyModel((root_ / "cache").string(), tiny);
    ASSERT_TRUE(dir.ok()) << dir.status();
    official_ = *dir;
    comfy_ = root_ / "comfy";
    fs::create_directories(comfy_ / "diffusion_models");
    fs::create_directories(comfy_ / "text_encoders");
    fs::create_directories(comfy_ / "vae");
    using io::test_util::ReadAll;
    const auto prefixed = [](const std::string& n) { return "model.diffusion_model." + n; };
    const fs::path dits = comfy_ / "diffusion_models";
    if (expert_pair) {
      io::test_util::WriteRenamed((dits / "wan2.2_t2v_high_noise_14B_tiny.safetensors").string(),
                                  ReadAll((official_ / io::kHighNoiseDir / io::kDitWeightsFile).string()), prefixed);
      io::test_util::WriteRenamed((dits / "wan2.2_t2v_low_noise_14B_tiny.safetensors").string(),
                                  ReadAll((official_ / io::kLowNoiseDir / io::kDitWeightsFile).string()), prefixed);
    } else {
      io::test_util::WriteRenamed((dits / "wan2.1_t2v_tiny_fp32.safetensors").string(),
                                  ReadAll((official_ / io::kDitWeightsFile).string()), prefixed);
    }
    io::test_util::WriteHfT5((official_ / io::kT5File).string(),
                             (comfy_ / "text_encoders" / "umt5_xxl_tiny.safetensors").string());
    const bool vae22 = type == ModelType::kTI2V;
    io::test_util::WriteRenamed((comfy_ / "vae" / (vae22 ? "wan2.2_vae.safetensors" : "wan_2.1_vae.safetensors")).string(),
                                ReadAll((official_ / (vae22 ? io::kVae22File : io::kVaeFile)).string()),
                                [](const std::string& n) { return n; });
    fs::copy_file(official_ / io::kTokenizerFile, comfy_ / "spiece.model");
    if (type == ModelType::kI2V) {
      fs::create_directories(comfy_ / "clip_vision");
      io::test_util::WriteHfClip((official_ / io::kClipFile).string(),
                                 (comfy_ / "clip_vision" / "clip_vision_h.safetensors").string());
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  void WriteVideogenJson(bool with_dit) {
    nlohmann::json extra = ReadJson(official_ / io::kVideogenConfigFile);
    const fs::path config = fs::exists(official_ / io::kDitConfigFile)
                                ? official_ / io::kDitConfigFile
                                : official_ / io::kHighNoiseDir / io::kDitConfigFile;
    if (with_dit) extra["dit"] = ReadJson(config);
    std::ofstream(comfy_ / io::kVideogenConfigFile) << extra.dump(2);
  }

  static std::unique_ptr<WanGenerator> Load(const fs::path& dir) {
    ModelLoadOptions options;
    options.model_dir = dir.string();
    options.id = "tiny";
    auto gen = WanGenerator::Create(options);
    EXPECT_TRUE(gen.ok()) << gen.status();
    return gen.ok() ? std::move(*gen) : nullptr;
  }

  static GeneratedVideo Generate(WanGenerator& gen, bool with_image = false) {
    GenerationRequest r;
    if (with_image) {
      RgbImage img{64, 32, std::vector<uint8_t>(64 * 32 * 3)};
      for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 7 % 251);
      r.image = std::move(img);
    }
    r.prompt = "a cat walks";
    if (!with_image) {
      r.width = 64;
      r.height = 32;
    } else {
      r.max_area = 64 * 32;
    }
    r.num_frames = 5;
    r.steps = 2;
    r.seed = 7;
    CancelToken cancel;
    auto video = gen.Generate(r, nullptr, cancel);
    EXPECT_TRUE(video.ok()) << video.status();
    return video.ok() ? std::move(*video) : GeneratedVideo{};
  }

  static uint64_t DitBytes(const WanGenerator& gen) {
    uint64_t n = 0;
    for (const ResidentGroup& g : gen.description().resident) {
      if (g.component == Component::kDit) n += g.bytes;
    }
    return n;
  }

  fs::path root_, official_, comfy_;
};

TEST_F(ComfyGeneratorTest, ComfyLayoutGeneratesWhatTheOfficialLayoutGenerates) {
  WriteVideogenJson(/*with_dit=*/true);
  auto files = io::FindModelFiles(comfy_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, io::ModelLayout::kComfyUI);

  auto official = Load(official_);
  auto comfy = Load(comfy_);
  ASSERT_NE(official, nullptr);
  ASSERT_NE(comfy, nullptr);
  EXPECT_EQ(comfy->description().type, ModelType::kT2V);
  EXPECT_EQ(comfy->description().variant, "tiny");
  const GeneratedVideo a = Generate(*official), b = Generate(*comfy);
  ASSERT_FALSE(a.rgb.empty());
  EXPECT_EQ(a.rgb, b.rgb);
}

TEST_F(ComfyGeneratorTest, DitConfigIsInferredWithoutConfigJson) {
  WriteVideogenJson(/*with_dit=*/false);
  auto official = Load(official_);
  auto comfy = Load(comfy_);
  ASSERT_NE(official, nullptr);
  ASSERT_NE(comfy, nullptr);
  // Same geometry (every tensor loaded, none unexpected); the tiny model's
  // head_dim 64 differs from the inferred 128, so outputs need videogen.json "dit".
  EXPECT_EQ(DitBytes(*comfy), DitBytes(*official));
  EXPECT_EQ(comfy->description().type, ModelType::kT2V);
}

TEST_F(ComfyGeneratorTest, ComfyI2VWithHfClipGeneratesWhatTheOfficialLayoutGenerates) {
  Build(ModelType::kI2V);
  WriteVideogenJson(/*with_dit=*/true);
  auto official = Load(official_);
  auto comfy = Load(comfy_);
  ASSERT_NE(official, nullptr);
  ASSERT_NE(comfy, nullptr);
  EXPECT_EQ(comfy->description().type, ModelType::kI2V);
  const GeneratedVideo a = Generate(*official, /*with_image=*/true), b = Generate(*comfy, /*with_image=*/true);
  ASSERT_FALSE(a.rgb.empty());
  EXPECT_EQ(a.rgb, b.rgb);

  // The inferred config recognises the i2v DiT (img_emb) too.
  WriteVideogenJson(/*with_dit=*/false);
  auto inferred = Load(comfy_);
  ASSERT_NE(inferred, nullptr);
  EXPECT_EQ(inferred->description().type, ModelType::kI2V);
  EXPECT_EQ(DitBytes(*inferred), DitBytes(*official));

  // Without the CLIP file the i2v model names what is missing.
  fs::remove_all(comfy_ / "clip_vision");
  ModelLoadOptions options;
  options.model_dir = comfy_.string();
  auto missing = WanGenerator::Create(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("clip_vision_h"), std::string::npos) << missing.status();
}

// Wan2.2 as ComfyUI ships it: the T2V-A14B pair as wan2.2_t2v_high_noise /
// low_noise files (roles from the names), and TI2V with wan2.2_vae.safetensors
// (recognised from its header): the same videos as the official layouts.
TEST_F(ComfyGeneratorTest, ComfyWan22ExpertPairGeneratesWhatTheOfficialLayoutGenerates) {
  Build(ModelType::kT2V, /*expert_pair=*/true);
  WriteVideogenJson(/*with_dit=*/true);
  auto files = io::FindModelFiles(comfy_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(files->has_expert_pair());
  auto official = Load(official_);
  auto comfy = Load(comfy_);
  ASSERT_NE(official, nullptr);
  ASSERT_NE(comfy, nullptr);
  ASSERT_TRUE(comfy->description().defaults.guidance_scale_high_noise.has_value());
  const GeneratedVideo a = Generate(*official), b = Generate(*comfy);
  ASSERT_FALSE(a.rgb.empty());
  EXPECT_EQ(a.rgb, b.rgb);
}

TEST_F(ComfyGeneratorTest, ComfyTI2VWithTheWan22VaeGeneratesWhatTheOfficialLayoutGenerates) {
  Build(ModelType::kTI2V);
  WriteVideogenJson(/*with_dit=*/true);
  auto official = Load(official_);
  auto comfy = Load(comfy_);
  ASSERT_NE(official, nullptr);
  ASSERT_NE(comfy, nullptr);
  EXPECT_EQ(comfy->description().type, ModelType::kTI2V);
  const GeneratedVideo a = Generate(*official, /*with_image=*/true), b = Generate(*comfy, /*with_image=*/true);
  ASSERT_FALSE(a.rgb.empty());
  EXPECT_EQ(a.rgb, b.rgb);
}

}  // namespace
}  // namespace videogen::pipeline

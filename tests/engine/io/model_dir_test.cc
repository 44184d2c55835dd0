// FindModelFiles: the official layouts first (Wan2.1, the Wan2.2 expert
// pairs and TI2V-5B), then ComfyUI single files recognised by their headers.
#include "engine/io/model_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/io/comfy_layout.h"
#include "engine/io/safetensors.h"
#include "tests/engine/io/comfy_test_util.h"

namespace videogen::io {
namespace {

namespace fs = std::filesystem;
using test_util::GoldenDir;

class ModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vg_modeldir_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Touch(const std::string& name) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    return p.string();
  }
  std::string Copy(const std::string& from, const std::string& name) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    fs::copy_file(from, p);
    return p.string();
  }
  // The four ComfyUI files (golden weights; only their headers matter here).
  void WriteComfyFiles(const std::string& sub = "") {
    const std::string base = sub.empty() ? "" : sub + "/";
    Copy(GoldenDir() + "/dit_t2v/weights.safetensors", base + "wan2.1_t2v_1.3B_fp16.safetensors");
    test_util::WriteHfT5(GoldenDir() + "/t5_encoder/weights.safetensors",
                         (dir_ / (base + "umt5_xxl_fp8_e4m3fn.safetensors")).string());
    Copy(GoldenDir() + "/vae_decode/weights.safetensors", base + "wan_2.1_vae.safetensors");
  }

  // A safetensors file of zeros with these names and shapes (only the header matters here).
  std::string WriteHeader(const std::string& name,
                          const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::vector<NamedTensor> out;
    for (const auto& [tensor, shape] : tensors) out.push_back({tensor, at::zeros(shape), std::nullopt});
    const absl::Status status = WriteSafetensors(p.string(), std::move(out));
    EXPECT_TRUE(status.ok()) << status;
    return p.string();
  }
  // A ComfyUI DiT (prefixed names) of `in` input and `out` latent channels, `dim` wide.
  std::string WriteComfyDit(const std::string& name, int64_t in, int64_t out, int64_t dim = 8) {
    const std::string m = "model.diffusion_model.";
    return WriteHeader(name, {{m + "patch_embedding.weight", {dim, in, 1, 2, 2}},
                              {m + "blocks.0.self_attn.q.weight", {dim, dim}},
                              {m + "head.head.weight", {4 * out, dim}}});
  }
  // A Wan VAE: RGB (Wan2.1) or 2x2-patchified RGB (Wan2.2) encoder input, z latent channels.
  std::string WriteVae(const std::string& name, VaeKind kind, int64_t z) {
    return WriteHeader(name, {{"encoder.conv1.weight", {4, kind == VaeKind::kWan22 ? 12 : 3, 3, 3, 3}},
                              {"decoder.conv1.weight", {4, z, 3, 3, 3}},
                              {"conv1.weight", {2 * z, 2 * z, 1, 1, 1}},
                              {"conv2.weight", {z, z, 1, 1, 1}}});
  }
  std::string WriteUmt5(const std::string& name) {
    return WriteHeader(name, {{"shared.weight", {10, 4}}, {"encoder.block.0.layer.0.SelfAttention.q.weight", {4, 4}}});
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(ModelDirTest, OfficialLayoutIsFound) {
  Touch(kDitConfigFile);
  Touch(kDitWeightsFile);
  Touch(kT5File);
  Touch(kTokenizerFile);
  Touch(kVaeFile);
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kOfficial);
  EXPECT_EQ(files->dit, (dir_ / kDitWeightsFile).string());
  EXPECT_EQ(files->tokenizer, (dir_ / kTokenizerFile).string());
  EXPECT_EQ(files->clip, "");
  // The sharded index wins over a single file.
  Touch(kDitIndexFile);
  files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->dit, (dir_ / kDitIndexFile).string());
}

TEST_F(ModelDirTest, MissingOfficialFilesAreNamed) {
  Touch(kDitConfigFile);
  Touch(kT5File);
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  const std::string msg(files.status().message());
  for (const char* name : {kDitWeightsFile, kTokenizerFile, kVaeFile}) {
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
  EXPECT_EQ(msg.find("ComfyUI layout lacks"), std::string::npos) << msg;  // no ComfyUI file here
}

TEST_F(ModelDirTest, NotADirectoryIsInvalidArgument) {
  EXPECT_EQ(FindModelFiles(Touch("file")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ModelDirTest, ComfyFilesAreFoundByHeader) {
  WriteComfyFiles();
  Touch("spiece.model");
  Touch("notes.txt");
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kComfyUI);
  EXPECT_EQ(files->dit, (dir_ / "wan2.1_t2v_1.3B_fp16.safetensors").string());
  EXPECT_EQ(files->t5, (dir_ / "umt5_xxl_fp8_e4m3fn.safetensors").string());
  EXPECT_EQ(files->vae, (dir_ / "wan_2.1_vae.safetensors").string());
  EXPECT_EQ(files->tokenizer, (dir_ / "spiece.model").string());
  EXPECT_EQ(files->clip, "");
  EXPECT_EQ(files->dit_config, "");
}

TEST_F(ModelDirTest, ComfyModelsTreeIsFound) {
  WriteComfyFiles("diffusion_models");
  fs::rename(dir_ / "diffusion_models" / "umt5_xxl_fp8_e4m3fn.safetensors", [&] {
    fs::create_directories(dir_ / "text_encoders");
    return dir_ / "text_encoders" / "umt5_xxl_fp8_e4m3fn.safetensors";
  }());
  Copy(GoldenDir() + "/clip_visual/weights.safetensors", "clip_vision/clip_vision_h.safetensors");
  Touch("google/umt5-xxl/spiece.model");
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kComfyUI);
  EXPECT_EQ(files->t5, (dir_ / "text_encoders" / "umt5_xxl_fp8_e4m3fn.safetensors").string());
  EXPECT_EQ(files->clip, (dir_ / "clip_vision" / "clip_vision_h.safetensors").string());
  EXPECT_EQ(files->tokenizer, (dir_ / "google/umt5-xxl/spiece.model").string());
}

TEST_F(ModelDirTest, IncompleteComfyLayoutNamesWhatIsMissing) {
  Copy(GoldenDir() + "/dit_t2v/weights.safetensors", "wan2.1_t2v_1.3B_fp16.safetensors");
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  const std::string msg(files.status().message());
  EXPECT_NE(msg.find("umT5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("VAE"), std::string::npos) << msg;
  EXPECT_NE(msg.find("spiece.model"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("a DiT file"), std::string::npos) << msg;
}

TEST_F(ModelDirTest, TwoComfyFilesOfOneComponentAreAmbiguous) {
  WriteComfyFiles();
  Touch("spiece.model");
  Copy(GoldenDir() + "/dit_i2v/weights.safetensors", "wan2.1_i2v_480p_14B_fp16.safetensors");
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(files.status().message()).find("several dit files"), std::string::npos) << files.status();
}

TEST_F(ModelDirTest, CompleteOfficialLayoutWinsOverComfyFiles) {
  WriteComfyFiles();
  Touch(kDitConfigFile);
  Touch(kDitWeightsFile);
  Touch(kT5File);
  Touch(kTokenizerFile);
  Touch(kVaeFile);
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kOfficial);
}

TEST_F(ModelDirTest, OfficialExpertPairLayoutIsFound) {
  // Wan2.2 T2V-A14B / I2V-A14B: one expert per sub-directory, the encoders and the Wan2.1 VAE at the root.
  Touch("high_noise_model/config.json");
  Touch("high_noise_model/diffusion_pytorch_model.safetensors.index.json");
  Touch("low_noise_model/config.json");
  Touch("low_noise_model/diffusion_pytorch_model.safetensors");
  Touch(kT5File);
  Touch(kTokenizerFile);
  Touch(kVaeFile);
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kOfficial);
  EXPECT_TRUE(files->has_expert_pair());
  EXPECT_EQ(files->dit, Path("high_noise_model/diffusion_pytorch_model.safetensors.index.json"));
  EXPECT_EQ(files->dit_config, Path("high_noise_model/config.json"));
  EXPECT_EQ(files->dit_low_noise, Path("low_noise_model/diffusion_pytorch_model.safetensors"));
  EXPECT_EQ(files->dit_low_noise_config, Path("low_noise_model/config.json"));
  EXPECT_EQ(files->vae, Path(kVaeFile));
  EXPECT_EQ(files->vae_kind, VaeKind::kWan21);
  EXPECT_EQ(files->clip, "");
}

TEST_F(ModelDirTest, MissingOfficialExpertIsNamed) {
  Touch("high_noise_model/diffusion_pytorch_model.safetensors");
  Touch(kT5File);
  Touch(kTokenizerFile);
  Touch(kVaeFile);
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  const std::string msg(files.status().message());
  EXPECT_NE(msg.find("low_noise_model/ (the low-noise expert)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("high_noise_model/config.json"), std::string::npos) << msg;
  // The high-noise expert's weights were found.
  EXPECT_EQ(msg.find("high_noise_model/diffusion_pytorch_model"), std::string::npos) << msg;
}

TEST_F(ModelDirTest, OfficialTi2vLayoutHasTheWan22Vae) {
  Touch(kDitConfigFile);
  Touch(kDitIndexFile);
  Touch(kT5File);
  Touch(kTokenizerFile);
  Touch(kVae22File);
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_FALSE(files->has_expert_pair());
  EXPECT_EQ(files->vae, Path(kVae22File));
  EXPECT_EQ(files->vae_kind, VaeKind::kWan22);
  // Both official VAEs: which one is meant cannot be told from the names.
  Touch(kVaeFile);
  files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(files.status().message()).find(kVae22File), std::string::npos) << files.status();
}

TEST_F(ModelDirTest, HeadersOnlyNeedsTheDitAndAcceptsSafetensorsStandIns) {
  Touch("high_noise_model/diffusion_pytorch_model.safetensors");
  Touch("low_noise_model/diffusion_pytorch_model.safetensors");
  Touch("models_t5_umt5-xxl-enc-bf16.safetensors");
  Touch("Wan2.2_VAE.safetensors");
  // The loader needs the official .pth files and the tokenizer (and these stand-ins are no ComfyUI files).
  EXPECT_FALSE(FindModelFiles(dir_.string()).ok());
  FindModelFilesOptions options;
  options.headers_only = true;
  auto files = FindModelFiles(dir_.string(), options);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->dit_low_noise, Path("low_noise_model/diffusion_pytorch_model.safetensors"));
  EXPECT_EQ(files->dit_config, "");
  EXPECT_EQ(files->t5, Path("models_t5_umt5-xxl-enc-bf16.safetensors"));
  EXPECT_EQ(files->vae, Path("Wan2.2_VAE.safetensors"));
  EXPECT_EQ(files->vae_kind, VaeKind::kWan22);
  EXPECT_EQ(files->tokenizer, "");
}

TEST_F(ModelDirTest, ComfyWan22ExpertPairIsFoundByName) {
  // A ComfyUI models/ tree with both VAEs: the experts' 16 latent channels pick the Wan2.1 VAE.
  WriteComfyDit("diffusion_models/wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", 16, 16);
  WriteComfyDit("diffusion_models/wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors", 16, 16);
  WriteUmt5("text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors");
  WriteVae("vae/wan_2.1_vae.safetensors", VaeKind::kWan21, 16);
  WriteVae("vae/wan2.2_vae.safetensors", VaeKind::kWan22, 48);
  Touch("spiece.model");
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->layout, ModelLayout::kComfyUI);
  EXPECT_EQ(files->dit, Path("diffusion_models/wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors"));
  EXPECT_EQ(files->dit_low_noise, Path("diffusion_models/wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors"));
  EXPECT_EQ(files->dit_low_noise_config, "");
  EXPECT_EQ(files->vae, Path("vae/wan_2.1_vae.safetensors"));
  EXPECT_EQ(files->vae_kind, VaeKind::kWan21);
  EXPECT_EQ(files->t5, Path("text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors"));
}

TEST_F(ModelDirTest, LoneComfyExpertNamesItsMissingPartner) {
  WriteUmt5("umt5_xxl_fp16.safetensors");
  WriteVae("wan_2.1_vae.safetensors", VaeKind::kWan21, 16);
  Touch("spiece.model");
  const std::string high = WriteComfyDit("wan2.2_i2v_high_noise_14B_fp16.safetensors", 36, 16);
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  std::string msg(files.status().message());
  EXPECT_NE(msg.find("the low-noise expert"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wan2.2_i2v_high_noise_14B_fp16.safetensors"), std::string::npos) << msg;
  fs::rename(high, Path("wan2.2_i2v_low_noise_14B_fp16.safetensors"));
  files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  msg = std::string(files.status().message());
  EXPECT_NE(msg.find("the high-noise expert"), std::string::npos) << msg;
}

TEST_F(ModelDirTest, ComfyExpertsMustHoldTheSameTensors) {
  WriteComfyDit("wan2.2_t2v_high_noise_14B_fp16.safetensors", 16, 16, /*dim=*/8);
  WriteComfyDit("wan2.2_t2v_low_noise_14B_fp16.safetensors", 16, 16, /*dim=*/16);
  auto files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(files.status().message()).find("do not hold the same tensors"), std::string::npos)
      << files.status();
  // A single DiT beside an expert pair is ambiguous too.
  WriteComfyDit("wan2.2_t2v_low_noise_14B_fp16.safetensors", 16, 16, /*dim=*/8);
  WriteComfyDit("wan2.1_t2v_14B_fp16.safetensors", 16, 16);
  files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(files.status().message()).find("several dit files"), std::string::npos) << files.status();
}

TEST_F(ModelDirTest, ComfyTi2vTakesTheWan22VaeByHeader) {
  WriteComfyDit("wan2.2_ti2v_5B_fp16.safetensors", 48, 48);
  WriteUmt5("umt5_xxl_fp16.safetensors");
  // The Wan2.2 VAE under a name that does not say so: recognised from its header.
  WriteVae("vae_a.safetensors", VaeKind::kWan22, 48);
  Touch("spiece.model");
  auto files = FindModelFiles(dir_.string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_FALSE(files->has_expert_pair());
  EXPECT_EQ(files->dit, Path("wan2.2_ti2v_5B_fp16.safetensors"));
  EXPECT_EQ(files->vae, Path("vae_a.safetensors"));
  EXPECT_EQ(files->vae_kind, VaeKind::kWan22);
  // With only the Wan2.1 VAE, the 48-channel DiT has no VAE to decode with.
  fs::remove(Path("vae_a.safetensors"));
  WriteVae("wan_2.1_vae.safetensors", VaeKind::kWan21, 16);
  files = FindModelFiles(dir_.string());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(files.status().message()).find("48-channel latents"), std::string::npos) << files.status();
}

TEST(ClassifyVaeTest, TellsTheGoldenWan21AndWan22VaesApart) {
  auto v21 = ReadSafetensorsHeader(GoldenDir() + "/vae_decode/weights.safetensors");
  auto v22 = ReadSafetensorsHeader(GoldenDir() + "/vae22_decode/weights.safetensors");
  ASSERT_TRUE(v21.ok() && v22.ok());
  EXPECT_EQ(ClassifyHeader(*v21), ComfyComponent::kVae);
  EXPECT_EQ(ClassifyHeader(*v22), ComfyComponent::kVae);
  EXPECT_EQ(ClassifyVae(*v21), VaeKind::kWan21);
  EXPECT_EQ(ClassifyVae(*v22), VaeKind::kWan22);
  auto dit = ReadSafetensorsHeader(GoldenDir() + "/dit_ti2v_5b/weights.safetensors");
  ASSERT_TRUE(dit.ok());
  EXPECT_FALSE(ClassifyVae(*dit).has_value());
  EXPECT_EQ(DitLatentChannels(*dit), 48);
}

}  // namespace
}  // namespace videogen::io

// FindModelFiles: the official layout first, then ComfyUI single files
// recognised by their headers.
#include "engine/io/model_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace videogen::io

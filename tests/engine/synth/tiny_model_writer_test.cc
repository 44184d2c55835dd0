#include "engine/synth/tiny_model_writer.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/io/model_dir.h"
#include "engine/io/pth.h"
#include "tests/support/temp_dir.h"

namespace videogen::synth {
namespace {

namespace fs = std::filesystem;

class TinyModelWriterTest : public ::testing::Test {
 protected:
  videogen::testing::ScopedTempDir tmp_{"vg_tiny_writer"};
  const fs::path dir_ = tmp_.path();
};

TEST_F(TinyModelWriterTest, WritesTheOfficialLayout) {
  pipeline::TinyModelOptions options;
  options.type = pipeline::ModelType::kT2V;
  const absl::Status s = WriteTinyModel(dir_.string(), options);
  ASSERT_TRUE(s.ok()) << s;
  for (const char* file : {io::kDitConfigFile, io::kDitWeightsFile, io::kT5File, io::kTokenizerFile, io::kVaeFile,
                           io::kVideogenConfigFile}) {
    EXPECT_TRUE(fs::is_regular_file(dir_ / file)) << file;
  }
  EXPECT_FALSE(fs::exists(dir_ / io::kClipFile)) << "t2v has no CLIP";
  auto t5 = io::OpenPth((dir_ / io::kT5File).string());
  ASSERT_TRUE(t5.ok()) << t5.status();
  EXPECT_FALSE((*t5)->tensors().empty());
  EXPECT_EQ((*t5)->tensors().front().dtype, io::DType::kBF16);
}

TEST_F(TinyModelWriterTest, MissingSpmTrainIsAFailedPrecondition) {
  pipeline::TinyModelOptions options;
  options.spm_train = (dir_ / "no-such-spm_train").string();
  const absl::Status s = WriteTinyModel(dir_.string(), options);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("spm_train failed"), std::string::npos) << s;
}

TEST(TinyCorpus, HoldsEnglishAndChinesePrompts) {
  const std::string corpus = kTinyTokenizerCorpus;
  EXPECT_NE(corpus.find("A cat walks slowly"), std::string::npos);
  EXPECT_NE(corpus.find("一只猫"), std::string::npos);
}

}  // namespace
}  // namespace videogen::synth

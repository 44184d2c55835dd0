// A GoogleTest fixture over the embedded tiny models (engine/pipeline/tiny_model.h):
// each model is written once per suite into a temporary cache by
// videogen-make-tiny and loaded by WanGenerator as real checkpoints are, plus a
// progress sink that records every update and a deterministic test image.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/pipeline/tiny_model.h"
#include "engine/pipeline/wan_generator.h"

namespace videogen::pipeline {

class RecordingSink : public ProgressSink {
 public:
  void OnProgress(const ProgressUpdate& update) override { updates.push_back(update); }
  std::vector<ProgressUpdate> updates;

  // The experts of the denoising steps, in order (the update after each step).
  std::vector<Expert> StepExperts() const {
    std::vector<Expert> out;
    for (const ProgressUpdate& u : updates) {
      if (u.stage == Stage::kDenoising && u.step > 0) out.push_back(u.expert);
    }
    return out;
  }
};

class TinyGeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_ = new std::string(
        (std::filesystem::temp_directory_path() / ("vg_gen_" + std::to_string(::getpid()))).string());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*cache_);
    delete cache_;
    cache_ = nullptr;
  }
  // The tiny model's directory (made on first use); a test failure when it cannot be made.
  static std::string Dir(ModelType type, bool expert_pair = false) {
    TinyModelOptions tiny;
    tiny.type = type;
    tiny.expert_pair = expert_pair;
    auto dir = EnsureTinyModel(*cache_, tiny);
    EXPECT_TRUE(dir.ok()) << dir.status();
    return dir.ok() ? *dir : "";
  }
  static std::unique_ptr<WanGenerator> Load(ModelType type, bool expert_pair = false) {
    ModelLoadOptions options;
    options.model_dir = Dir(type, expert_pair);
    options.id = "tiny";
    auto gen = WanGenerator::Create(options);
    EXPECT_TRUE(gen.ok()) << gen.status();
    return gen.ok() ? std::move(*gen) : nullptr;
  }
  // A small t2v request with enough steps (6) for an expert pair's
  // boundary to fall between its first and last step.
  static GenerationRequest ExpertPairRequest() {
    GenerationRequest r;
    r.prompt = "a sailboat";
    r.width = 64;
    r.height = 32;
    r.num_frames = 5;
    r.steps = 6;
    return r;
  }
  // A w x h RGB image of a fixed pattern.
  static RgbImage Image(int w, int h) {
    RgbImage img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 7 % 251);
    return img;
  }

  static inline std::string* cache_ = nullptr;
};

}  // namespace videogen::pipeline

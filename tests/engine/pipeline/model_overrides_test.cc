#include "engine/pipeline/model_overrides.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace videogen::pipeline {
namespace {

absl::StatusOr<ModelOverrides> Read(const std::string& text) {
  const videogen::testing::ScopedTempDir dir("vg_overrides");
  const std::string path = (dir.path() / "videogen.json").string();
  std::ofstream(path) << text;
  return ReadModelOverrides(path);
}

TEST(ModelOverridesTest, ReadsTopLevelKeysAndDefaults) {
  auto o = Read(R"({"variant": "tiny", "defaults": {"steps": 4, "sampler": "step_distill",
                    "timesteps": [1000, 500]}})");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->variant, "tiny");
  GenerationDefaults d;
  o->ApplyTo(d);
  EXPECT_EQ(d.steps, 4);
  EXPECT_EQ(d.sampler, Sampler::kStepDistill);
  EXPECT_EQ(d.timesteps, (std::vector<int>{1000, 500}));
}

TEST(ModelOverridesTest, ErrorsNameTheKeyWithItsSection) {
  auto top = Read(R"({"variant": 3})");
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(top.status().message().find(": variant: "), std::string::npos) << top.status();
  auto defaults = Read(R"({"defaults": {"steps": "many"}})");
  EXPECT_EQ(defaults.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(defaults.status().message().find("defaults.steps: "), std::string::npos) << defaults.status();
}

}  // namespace
}  // namespace videogen::pipeline

// Per-request admission through WanGenerator::Validate: with a host budget
// that just holds the default request, the default is admitted and the next
// larger frame count is refused naming num_frames, the need and the limit;
// ListModels' limits say the same.
#include <string>

#include <gtest/gtest.h>

#include "tests/engine/pipeline/tiny_generator_fixture.h"

namespace videogen::pipeline {
namespace {

using RequestAdmissionTest = TinyGeneratorTest;

TEST_F(RequestAdmissionTest, TheLargestAdmittedRequestPassesAndTheNextIsRefusedNamingTheLimit) {
  auto roomy = Load(ModelType::kT2V);
  ASSERT_NE(roomy, nullptr);
  const GenerationDefaults& d = roomy->description().defaults;
  const auto peak = roomy->description().plan.predicted_peak.find(Device::Cpu());
  ASSERT_NE(peak, roomy->description().plan.predicted_peak.end());
  // With the whole machine, the tiny model admits every frame count the rules allow at its default size.
  EXPECT_EQ(roomy->description().admitted.max_frames, 129);
  EXPECT_GE(roomy->description().admitted.max_area, int64_t{d.width} * d.height);

  // A host budget of exactly the default request's predicted peak.
  ModelLoadOptions options;
  options.model_dir = Dir(ModelType::kT2V);
  options.load.host_memory = peak->second;
  auto gen = WanGenerator::Create(options);
  ASSERT_TRUE(gen.ok()) << gen.status();
  EXPECT_EQ((*gen)->description().admitted.max_frames, d.num_frames);

  GenerationRequest r;
  r.prompt = "waves";
  r.num_frames = d.num_frames;
  EXPECT_TRUE((*gen)->Validate(r).ok()) << (*gen)->Validate(r);
  r.num_frames = d.num_frames + 4;
  const absl::Status refused = (*gen)->Validate(r);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  const std::string message(refused.message());
  EXPECT_EQ(message.rfind("num_frames: ", 0), 0u) << message;
  EXPECT_NE(message.find("of host memory"), std::string::npos) << message;
  EXPECT_NE(message.find("at most " + std::to_string(d.num_frames) + " frames"), std::string::npos) << message;

  // A size too large even for one frame names the size field.
  r.num_frames = 1;
  r.width = 1280;
  r.height = 1280;
  const absl::Status too_wide = (*gen)->Validate(r);
  EXPECT_EQ(too_wide.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(too_wide.message()).rfind("width: 1280x1280 needs", 0), 0u) << too_wide;
}

}  // namespace
}  // namespace videogen::pipeline

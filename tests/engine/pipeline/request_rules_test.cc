#include "engine/pipeline/api/request_rules.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace videogen::pipeline {
namespace {

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).rfind(field + ": ", 0), 0u) << s;
}

TEST(RequestRulesTest, EachRuleNamesItsFieldAndAcceptsItsBoundaries) {
  EXPECT_TRUE(CheckSteps(1).ok());
  ExpectInvalid(CheckSteps(0), "steps");
  EXPECT_TRUE(CheckGuidanceScale(0).ok());
  EXPECT_TRUE(CheckGuidanceScale(kMaxGuidanceScale).ok());
  ExpectInvalid(CheckGuidanceScale(-0.5), "guidance_scale");
  ExpectInvalid(CheckGuidanceScale(std::nan("")), "guidance_scale");
  ExpectInvalid(CheckGuidanceScale(kMaxGuidanceScale + 1), "guidance_scale");
  EXPECT_TRUE(CheckShift(kMaxShift).ok());
  ExpectInvalid(CheckShift(0), "shift");
  ExpectInvalid(CheckShift(std::numeric_limits<double>::infinity()), "shift");
  EXPECT_TRUE(CheckNumFrames(1).ok());
  EXPECT_TRUE(CheckNumFrames(81).ok());
  ExpectInvalid(CheckNumFrames(0), "num_frames");
  ExpectInvalid(CheckNumFrames(8), "num_frames");
  EXPECT_TRUE(CheckSize("width", 16).ok());
  ExpectInvalid(CheckSize("width", 100), "width");
  ExpectInvalid(CheckSize("height", 0), "height");
  EXPECT_TRUE(CheckMaxArea(kMinMaxArea).ok());
  ExpectInvalid(CheckMaxArea(kMinMaxArea - 1), "max_area");
}

TEST(RequestRulesTest, RequestChecksOnlyTheFieldsThatAreSet) {
  GenerationRequest r;
  EXPECT_TRUE(CheckRequestRules(r, ModelType::kT2V).ok());
  r.num_frames = 6;
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "num_frames");
  r = {};
  r.guidance_scale = -1;
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "guidance_scale");
  r = {};
  r.width = 40;
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "width");
}

TEST(RequestRulesTest, ImageIsRequiredByImageModelsAndRejectedByT2V) {
  GenerationRequest r;
  ExpectInvalid(CheckRequestRules(r, ModelType::kI2V), "image");
  r.image = RgbImage{2, 2, std::vector<uint8_t>(12, 0)};
  EXPECT_TRUE(CheckRequestRules(r, ModelType::kI2V).ok());
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "image");
  r.image->rgb.resize(11);
  ExpectInvalid(CheckRequestRules(r, ModelType::kI2V), "image");
}

TEST(RequestRulesTest, LastFrameBelongsToFlf2vModelsWithEightyOneFrames) {
  GenerationRequest r;
  r.image = RgbImage{2, 2, std::vector<uint8_t>(12, 0)};
  ExpectInvalid(CheckRequestRules(r, ModelType::kFLF2V), "last_frame");
  r.last_image = RgbImage{3, 2, std::vector<uint8_t>(18, 0)};
  EXPECT_TRUE(CheckRequestRules(r, ModelType::kFLF2V).ok());
  ExpectInvalid(CheckRequestRules(r, ModelType::kI2V), "last_frame");
  r.num_frames = 17;
  ExpectInvalid(CheckRequestRules(r, ModelType::kFLF2V), "num_frames");
  r.num_frames = kFirstLastFrameNumFrames;
  EXPECT_TRUE(CheckRequestRules(r, ModelType::kFLF2V).ok());
  r.last_image->rgb.resize(5);
  ExpectInvalid(CheckRequestRules(r, ModelType::kFLF2V), "last_frame");
  r.last_image.reset();
  r.image.reset();
  ExpectInvalid(CheckRequestRules(r, ModelType::kFLF2V), "image");
}

TEST(RequestRulesTest, AdaptersNeedDistinctNamesAndBoundedStrengths) {
  GenerationRequest r;
  r.adapters = {{"style", 0.8}, {"detail", -1.0}};
  EXPECT_TRUE(CheckRequestRules(r, ModelType::kT2V).ok());
  r.adapters = {{"style", kMaxAdapterStrength + 1}};
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "adapters");
  r.adapters = {{"style", std::nan("")}};
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "adapters");
  r.adapters = {{"style", 1}, {"style", 0.5}};
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "adapters");
  r.adapters = {{"", 1}};
  ExpectInvalid(CheckRequestRules(r, ModelType::kT2V), "adapters");
}

TEST(RequestRulesTest, DefaultsAreCheckedWithTheirFieldNames) {
  GenerationDefaults d;
  EXPECT_TRUE(CheckDefaults(d).ok());
  d.num_frames = 80;
  const absl::Status s = CheckDefaults(d);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).rfind("defaults.num_frames: ", 0), 0u) << s;
}

}  // namespace
}  // namespace videogen::pipeline

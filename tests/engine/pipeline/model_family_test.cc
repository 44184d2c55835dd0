#include "engine/pipeline/model_family.h"

#include <string>

#include <gtest/gtest.h>

namespace videogen::pipeline {
namespace {

TEST(ModelFamilyTest, PresetsGiveTheirVariantNames) {
  for (const VariantPreset& preset : Wan21Presets()) {
    const models::WanConfig dit = preset.dit();
    auto d = DescribeWan21(dit);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->variant, preset.name);
  }
}

TEST(ModelFamilyTest, TextToVideoHasNoImageEncoderAndT2VDefaults) {
  auto d = DescribeWan21(models::WanConfig::T2V_1_3B());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->family, ModelFamily::kWan21);
  EXPECT_EQ(d->type, ModelType::kT2V);
  EXPECT_EQ(d->pipeline, PipelineKind::kTextToVideo);
  EXPECT_EQ(d->dit, DitLayout::kSingle);
  EXPECT_EQ(d->image_encoder, ImageEncoderKind::kNone);
  EXPECT_EQ(d->components(), (std::vector<Component>{Component::kDit, Component::kT5, Component::kVae}));
  EXPECT_EQ(d->defaults.steps, 50);
  EXPECT_EQ(d->defaults.shift, 5.0);
  EXPECT_EQ(d->defaults.negative_prompt, kT2VNegativePrompt);
  EXPECT_EQ(d->latent.channels, 16);
}

TEST(ModelFamilyTest, ImageToVideoAddsClipAndI2VDefaults) {
  auto d = DescribeWan21(models::WanConfig::I2V_14B());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->variant, "I2V-14B");
  EXPECT_EQ(d->type, ModelType::kI2V);
  EXPECT_EQ(d->pipeline, PipelineKind::kImageToVideo);
  EXPECT_EQ(d->image_encoder, ImageEncoderKind::kClipVitH14);
  EXPECT_EQ(d->components(),
            (std::vector<Component>{Component::kDit, Component::kT5, Component::kClip, Component::kVae}));
  EXPECT_EQ(d->defaults.steps, 40);
  EXPECT_EQ(d->defaults.shift, 3.0);
  EXPECT_EQ(d->defaults.negative_prompt, kI2VNegativePrompt);
}

TEST(ModelFamilyTest, FirstLastFrameTakesTwoImagesAndTheFlf2vDefaults) {
  const models::WanConfig flf2v = models::WanConfig::FLF2V_14B();
  EXPECT_EQ(PipelineKindOf(flf2v), PipelineKind::kFirstLastFrameToVideo);
  EXPECT_EQ(PipelineKindOf(models::WanConfig::I2V_14B()), PipelineKind::kImageToVideo);
  EXPECT_EQ(PipelineKindOf(models::WanConfig::T2V_1_3B()), PipelineKind::kTextToVideo);
  auto d = DescribeWan21(flf2v);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->variant, "FLF2V-14B");
  EXPECT_EQ(d->type, ModelType::kFLF2V);
  EXPECT_EQ(d->pipeline, PipelineKind::kFirstLastFrameToVideo);
  EXPECT_EQ(d->image_encoder, ImageEncoderKind::kClipVitH14);
  // generate.py for flf2v-14B: 50 steps, shift 16; the 720P size.
  EXPECT_EQ(d->defaults.steps, 50);
  EXPECT_EQ(d->defaults.shift, 16.0);
  EXPECT_EQ(d->defaults.max_area, 1280 * 720);
  EXPECT_EQ(d->defaults.negative_prompt, kFLF2VNegativePrompt);
  // wan/configs/wan_i2v_14B.py's negative prompt with "镜头切换，" prepended (flf2v-14B).
  EXPECT_EQ(std::string(kFLF2VNegativePrompt), std::string("镜头切换，") + kI2VNegativePrompt);
}

TEST(ModelFamilyTest, OtherGeometriesAreCustom) {
  models::WanConfig c = models::WanConfig::T2V_14B();
  c.num_layers = 20;
  auto d = DescribeWan21(c);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->variant, "custom");
  // text_len is not part of the architecture.
  c = models::WanConfig::T2V_14B();
  c.text_len = 256;
  EXPECT_EQ(DescribeWan21(c)->variant, "T2V-14B");
}

}  // namespace
}  // namespace videogen::pipeline

#include "engine/pipeline/model_family.h"

#include "absl/strings/str_cat.h"

namespace videogen::pipeline {

const char kT2VNegativePrompt[] =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";
const char kI2VNegativePrompt[] =
    "镜头晃动，色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

const char kFLF2VNegativePrompt[] =
    "镜头切换，镜头晃动，色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，"
    "低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，"
    "形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

const char* ModelFamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kWan21: return "Wan2.1";
    case ModelFamily::kWan22: return "Wan2.2";
  }
  return "?";
}

std::vector<Component> ModelDescriptor::components() const {
  std::vector<Component> out = {Component::kDit};
  if (dit == DitLayout::kExpertPair) out.push_back(Component::kDitLowNoise);
  out.push_back(Component::kT5);
  if (image_encoder == ImageEncoderKind::kClipVitH14) out.push_back(Component::kClip);
  out.push_back(Component::kVae);
  return out;
}

PipelineKind PipelineKindOf(const models::WanConfig& dit) {
  switch (dit.model_type) {
    case models::WanModelType::kT2V: return PipelineKind::kTextToVideo;
    case models::WanModelType::kI2V: return PipelineKind::kImageToVideo;
    case models::WanModelType::kFLF2V: return PipelineKind::kFirstLastFrameToVideo;
    case models::WanModelType::kTI2V: return PipelineKind::kTextImageToVideo;
  }
  return PipelineKind::kTextToVideo;
}

const std::vector<VariantPreset>& Wan21Presets() {
  static const std::vector<VariantPreset> presets = {
      {"T2V-1.3B", &models::WanConfig::T2V_1_3B},
      {"T2V-14B", &models::WanConfig::T2V_14B},
      {"I2V-14B", &models::WanConfig::I2V_14B},
      {"FLF2V-14B", &models::WanConfig::FLF2V_14B},
  };
  return presets;
}

const std::vector<VariantPreset>& Wan22Presets() {
  static const std::vector<VariantPreset> presets = {
      {"T2V-A14B", &models::WanConfig::T2V_A14B},
      {"I2V-A14B", &models::WanConfig::I2V_A14B},
      {"TI2V-5B", &models::WanConfig::TI2V_5B},
  };
  return presets;
}

namespace {

// What every descriptor takes from its DiT: the family, the variant of the
// preset with the same architecture (else "custom"), the latent channels and
// patch, and the pipeline its model_type needs.
ModelDescriptor FromDit(ModelFamily family, const std::vector<VariantPreset>& presets, const models::WanConfig& dit) {
  ModelDescriptor d;
  d.family = family;
  d.variant = "custom";
  for (const VariantPreset& preset : presets) {
    if (dit.SameArchitecture(preset.dit())) d.variant = preset.name;
  }
  d.latent.channels = dit.out_dim;
  d.latent.patch = dit.patch_size;
  d.pipeline = PipelineKindOf(dit);
  return d;
}

}  // namespace

absl::StatusOr<ModelDescriptor> DescribeWan22(const models::WanConfig& dit, bool expert_pair) {
  ModelDescriptor d = FromDit(ModelFamily::kWan22, Wan22Presets(), dit);
  d.image_encoder = ImageEncoderKind::kNone;
  d.defaults.negative_prompt = kT2VNegativePrompt;
  d.defaults.width = 1280;
  d.defaults.height = 720;
  d.defaults.max_area = 1280 * 720;
  d.defaults.steps = 40;
  if (expert_pair && d.pipeline == PipelineKind::kTextToVideo) {
    d.type = ModelType::kT2V;
    d.dit = DitLayout::kExpertPair;
    d.defaults.shift = 12.0;
    d.defaults.guidance_scale = 3.0;
    d.defaults.guidance_scale_high_noise = 4.0;
    d.defaults.expert_boundary = 0.875;
    return d;
  }
  if (expert_pair && d.pipeline == PipelineKind::kImageToVideo && !dit.has_clip_input()) {
    d.type = ModelType::kI2V;
    d.dit = DitLayout::kExpertPair;
    d.defaults.shift = 5.0;
    d.defaults.guidance_scale = 3.5;
    d.defaults.guidance_scale_high_noise = 3.5;
    d.defaults.expert_boundary = 0.9;
    return d;
  }
  if (!expert_pair && d.pipeline == PipelineKind::kTextImageToVideo) {
    d.type = ModelType::kTI2V;
    d.vae = VaeKind::kWan22;
    d.latent.vae_stride = {4, 16, 16};
    d.defaults.width = 1280;
    d.defaults.height = 704;
    d.defaults.max_area = 1280 * 704;
    d.defaults.num_frames = 121;
    d.defaults.fps = 24.0;
    d.defaults.steps = 50;
    d.defaults.shift = 5.0;
    d.defaults.guidance_scale = 5.0;
    return d;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "dit: a Wan2.2 ", std::string(models::ModelTypeName(dit.model_type)), " DiT ",
      expert_pair ? "cannot form a high/low-noise expert pair (t2v and i2v can)"
                  : "needs its expert pair (high_noise_model/ and low_noise_model/); only ti2v runs alone"));
}

absl::StatusOr<ModelDescriptor> DescribeWan21(const models::WanConfig& dit) {
  ModelDescriptor d = FromDit(ModelFamily::kWan21, Wan21Presets(), dit);
  if (d.pipeline == PipelineKind::kFirstLastFrameToVideo) {
    // generate.py / wan/configs for flf2v-14B (720P): 50 steps, shift 16, 1280x720, 81 frames.
    d.type = ModelType::kFLF2V;
    d.image_encoder = ImageEncoderKind::kClipVitH14;
    d.defaults.width = 1280;
    d.defaults.height = 720;
    d.defaults.max_area = 1280 * 720;
    d.defaults.steps = 50;
    d.defaults.shift = 16.0;
    d.defaults.negative_prompt = kFLF2VNegativePrompt;
  } else if (d.pipeline == PipelineKind::kImageToVideo) {
    d.type = ModelType::kI2V;
    d.image_encoder = ImageEncoderKind::kClipVitH14;
    d.defaults.steps = 40;  // generate.py: i2v 40 steps, shift 3.0 at 480p
    d.defaults.shift = 3.0;
    d.defaults.negative_prompt = kI2VNegativePrompt;
  } else {
    d.type = ModelType::kT2V;
    d.image_encoder = ImageEncoderKind::kNone;
    d.defaults.steps = 50;
    d.defaults.shift = 5.0;
    d.defaults.negative_prompt = kT2VNegativePrompt;
  }
  return d;
}

}  // namespace videogen::pipeline

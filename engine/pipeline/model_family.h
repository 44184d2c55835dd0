// A model described as data, then made by one loader (wan_loader.h), as
// llama.cpp's llama-arch tables describe architectures for llama-model's
// loader. A descriptor says which components a Wan model has (one DiT or a
// high/low-noise expert pair, the text encoder, an image encoder or none,
// which VAE), its latent layout, its request defaults and which pipeline runs
// it. The math that differs between variants lives in small pipeline parts
// (conditioning.h), selected by `pipeline`.
//
// Adding a variant: a VariantPreset row (and, where its math differs, a
// PipelineKind with its pipeline part).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/model_types.h"
#include "engine/models/dit/config.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

enum class ModelFamily { kWan21, kWan22 };
// One DiT, or two experts of the same config switched at a boundary timestep.
enum class DitLayout { kSingle, kExpertPair };
// umT5-XXL encoder (wan/modules/t5.py) + its SentencePiece tokenizer.
enum class TextEncoderKind { kUmt5Xxl };
// kClipVitH14: the visual tower of open-clip XLM-RoBERTa ViT-H/14 (wan/modules/clip.py).
enum class ImageEncoderKind { kNone, kClipVitH14 };
// kWan21: the 3D causal VAE of wan/modules/vae.py (z_dim 16, stride (4, 8, 8));
// kWan22: Wan2.2's wan/modules/vae2_2.py (z_dim 48, stride (4, 16, 16)).
enum class VaeKind { kWan21, kWan22 };
// Which official generate() runs the model: wan/text2video.py,
// wan/image2video.py, wan/first_last_frame2video.py, or Wan2.2's
// wan/textimage2video.py (TI2V: text-only, or an image as latent frame 0).
enum class PipelineKind { kTextToVideo, kImageToVideo, kFirstLastFrameToVideo, kTextImageToVideo };

// The pipeline a DiT's model_type needs (t2v, i2v, flf2v, ti2v).
PipelineKind PipelineKindOf(const models::WanConfig& dit);

const char* ModelFamilyName(ModelFamily family);  // "Wan2.1", "Wan2.2"

// Latent video geometry shared by the VAE and the DiT.
struct LatentLayout {
  int64_t channels = 16;                          // VAE z_dim = DiT out_dim
  std::array<int64_t, 3> vae_stride = {4, 8, 8};  // video pixels per latent element (t, h, w)
  std::array<int64_t, 3> patch = {1, 2, 2};       // DiT patch (t, h, w)
};

struct ModelDescriptor {
  ModelFamily family = ModelFamily::kWan21;
  std::string variant;  // "T2V-1.3B", "T2V-14B", "I2V-14B", "custom" (videogen.json may rename it)
  ModelType type = ModelType::kT2V;  // what requests see
  PipelineKind pipeline = PipelineKind::kTextToVideo;
  DitLayout dit = DitLayout::kSingle;
  TextEncoderKind text_encoder = TextEncoderKind::kUmt5Xxl;
  ImageEncoderKind image_encoder = ImageEncoderKind::kNone;
  VaeKind vae = VaeKind::kWan21;
  LatentLayout latent;
  GenerationDefaults defaults;

  // The components to plan and load, DiT first.
  std::vector<Component> components() const;
};

// A known DiT geometry of wan/configs and the variant name it gives.
struct VariantPreset {
  const char* name;
  models::WanConfig (*dit)();
};
// T2V-1.3B, T2V-14B, I2V-14B, FLF2V-14B.
const std::vector<VariantPreset>& Wan21Presets();

// The official default negative prompts (wan/configs shared_config.sample_neg_prompt;
// the i2v config prepends "镜头晃动，", the flf2v config "镜头切换，" to the i2v one).
extern const char kT2VNegativePrompt[];
extern const char kI2VNegativePrompt[];
extern const char kFLF2VNegativePrompt[];

// Wan2.2 presets: T2V-A14B and I2V-A14B (the DiT of each expert), TI2V-5B.
const std::vector<VariantPreset>& Wan22Presets();

// The descriptor of a Wan2.2 model: an expert pair (`expert_pair`: T2V-A14B
// from a t2v DiT, I2V-A14B from an i2v one, no CLIP, Wan2.1 VAE) or TI2V-5B
// (a ti2v DiT, Wan2.2 VAE). Defaults from Wan2.2's wan/configs and
// generate.py: T2V-A14B 1280x720, 81 frames, 40 steps, shift 12, guidance
// (low 3.0, high 4.0), boundary 0.875; I2V-A14B max area 1280x720, 40 steps,
// shift 5, guidance (3.5, 3.5), boundary 0.9; TI2V-5B 1280x704, 121 frames at
// 24 fps, 50 steps, shift 5, guidance 5. Every Wan2.2 config uses the t2v
// negative prompt. InvalidArgument for a DiT that is neither (e.g. a flf2v
// DiT in an expert pair, or a lone Wan2.2 i2v DiT).
absl::StatusOr<ModelDescriptor> DescribeWan22(const models::WanConfig& dit, bool expert_pair);

// The descriptor of a Wan2.1 model whose DiT is `dit`: the variant of the
// preset with the same architecture (else "custom"), the image encoder and
// pipeline from the DiT's model_type, the latent layout from its patch and
// out_dim, and the defaults of wan/configs and generate.py (t2v: 50 steps,
// shift 5; i2v: 40 steps, shift 3 as at 480p; 832x480, 81 frames, guidance 5,
// 16 fps; flf2v: 50 steps, shift 16, 1280x720).
absl::StatusOr<ModelDescriptor> DescribeWan21(const models::WanConfig& dit);

}  // namespace videogen::pipeline

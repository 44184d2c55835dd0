// Finding the component files of a Wan2.1 model directory.
//
// Two layouts are supported; the official one is tried first.
//
// 1. The official layout, as distributed for Wan2.1-T2V-1.3B, T2V-14B,
//    I2V-14B-480P/720P:
//   config.json                                   DiT (WanModel) kwargs
//   diffusion_pytorch_model.safetensors           DiT weights, or sharded:
//   diffusion_pytorch_model.safetensors.index.json + diffusion_pytorch_model-0000i-of-0000n.safetensors
//   models_t5_umt5-xxl-enc-bf16.pth               umT5-XXL encoder
//   google/umt5-xxl/spiece.model                  tokenizer
//   models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth   CLIP (i2v only)
//   Wan2.1_VAE.pth                                VAE
//   videogen.json                                 optional: configs of non-official sizes
//                                                 (the embedded tiny model), see pipeline/wan_generator.h
//
// 2. ComfyUI's repackaged single files (Comfy-Org/Wan_2.1_ComfyUI_repackaged),
//    in the directory or its immediate sub-directories (a ComfyUI models/ tree:
//    diffusion_models/, text_encoders/, clip_vision/, vae/), recognised by their
//    safetensors headers, not their names (see engine/io/comfy_layout.h):
//      wan2.1_*.safetensors           DiT (fp16/bf16/fp8_e4m3fn, fp8_scaled);
//                                     its config is inferred from the tensor
//                                     shapes unless config.json is present
//      umt5_xxl_*.safetensors         umT5-XXL encoder in HF T5 naming (not fp8_scaled)
//      clip_vision_h.safetensors      CLIP (i2v only): HF CLIPVisionModel naming (vision_model.*)
//                                     or the official visual.* naming; open_clip naming refused
//      wan_2.1_vae.safetensors        VAE
//      spiece.model                   tokenizer (ComfyUI bundles it in its code, so
//                                     it must be copied here; google/umt5-xxl/spiece.model
//                                     and tokenizer/spiece.model are accepted too)
//      videogen.json                  optional, as above
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace videogen::io {

inline constexpr char kDitConfigFile[] = "config.json";
inline constexpr char kDitWeightsFile[] = "diffusion_pytorch_model.safetensors";
inline constexpr char kDitIndexFile[] = "diffusion_pytorch_model.safetensors.index.json";
inline constexpr char kT5File[] = "models_t5_umt5-xxl-enc-bf16.pth";
inline constexpr char kTokenizerFile[] = "google/umt5-xxl/spiece.model";
inline constexpr char kClipFile[] = "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth";
inline constexpr char kVaeFile[] = "Wan2.1_VAE.pth";
inline constexpr char kVideogenConfigFile[] = "videogen.json";

enum class ModelLayout {
  kOfficial,  // the file names above; tensors under the official names
  kComfyUI,   // single files; open them with OpenComfyCheckpoint (comfy_layout.h)
};

// Absolute paths of the files present; "" for the optional ones that are absent.
struct ModelFiles {
  std::string dir;
  ModelLayout layout = ModelLayout::kOfficial;
  std::string dit_config;   // required in the official layout, optional in ComfyUI's
  std::string dit;          // the index (sharded) or the single file; required
  std::string t5;           // required
  std::string tokenizer;    // required
  std::string vae;          // required
  std::string clip;         // optional here (the i2v loader requires it)
  std::string videogen_config;  // optional
};

// The official layout when it is complete, else the ComfyUI layout when its
// DiT, T5, VAE and tokenizer are all found. NotFound naming the directory and
// every missing required file of the official layout (and of the ComfyUI one
// when some of its files were found); InvalidArgument when `dir` is not a
// directory or holds two ComfyUI files of one component; DataLoss for an
// unreadable safetensors header.
absl::StatusOr<ModelFiles> FindModelFiles(const std::string& dir);

}  // namespace videogen::io

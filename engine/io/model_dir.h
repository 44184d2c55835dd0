// Finding the component files of a Wan2.1 model directory.
//
// Supported layout (the official one, as distributed for Wan2.1-T2V-1.3B,
// T2V-14B, I2V-14B-480P/720P):
//   config.json                                   DiT (WanModel) kwargs
//   diffusion_pytorch_model.safetensors           DiT weights, or sharded:
//   diffusion_pytorch_model.safetensors.index.json + diffusion_pytorch_model-0000i-of-0000n.safetensors
//   models_t5_umt5-xxl-enc-bf16.pth               umT5-XXL encoder
//   google/umt5-xxl/spiece.model                  tokenizer
//   models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth   CLIP (i2v only)
//   Wan2.1_VAE.pth                                VAE
//   videogen.json                                 optional: configs of non-official sizes
//                                                 (the embedded tiny model), see pipeline/wan_generator.h
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

// Absolute paths of the files present; "" for the optional ones that are absent.
struct ModelFiles {
  std::string dir;
  std::string dit_config;   // required
  std::string dit;          // the index (sharded) or the single file; required
  std::string t5;           // required
  std::string tokenizer;    // required
  std::string vae;          // required
  std::string clip;         // optional here (the i2v loader requires it)
  std::string videogen_config;  // optional
};

// NotFound naming the directory and every missing required file (with the
// layout expected), InvalidArgument when `dir` is not a directory.
absl::StatusOr<ModelFiles> FindModelFiles(const std::string& dir);

}  // namespace videogen::io

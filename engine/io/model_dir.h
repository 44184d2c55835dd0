// Finding the component files of a Wan2.1 / Wan2.2 model directory.
//
// Two layouts are supported; the official one is tried first.
//
// 1. The official layouts, as distributed for Wan2.1-T2V-1.3B, T2V-14B,
//    I2V-14B-480P/720P, FLF2V-14B and Wan2.2-TI2V-5B:
//   config.json                                   DiT (WanModel) kwargs
//   diffusion_pytorch_model.safetensors           DiT weights, or sharded:
//   diffusion_pytorch_model.safetensors.index.json + diffusion_pytorch_model-0000i-of-0000n.safetensors
//   models_t5_umt5-xxl-enc-bf16.pth               umT5-XXL encoder
//   google/umt5-xxl/spiece.model                  tokenizer
//   models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth   CLIP (Wan2.1 i2v/flf2v only)
//   Wan2.1_VAE.pth                                VAE (Wan2.1 models, Wan2.2 A14B), or
//   Wan2.2_VAE.pth                                the Wan2.2 VAE (TI2V-5B); one of the two
//   videogen.json                                 optional: configs of non-official sizes
//                                                 (the embedded tiny model), see pipeline/wan_generator.h
//    and for the Wan2.2 expert pairs (T2V-A14B, I2V-A14B; no CLIP), the DiT
//    files above in two sub-directories instead of the root:
//   high_noise_model/{config.json, diffusion_pytorch_model*}   the high-noise expert (early steps)
//   low_noise_model/{config.json, diffusion_pytorch_model*}    the low-noise expert (late steps)
//    The VAE kind comes from the file name here (the official files are named
//    for it); nothing is read.
//
// 2. ComfyUI's repackaged single files (Comfy-Org/Wan_2.1_ComfyUI_repackaged,
//    Wan_2.2_ComfyUI_Repackaged), in the directory or its immediate
//    sub-directories (a ComfyUI models/ tree: diffusion_models/,
//    text_encoders/, clip_vision/, vae/), recognised by their safetensors
//    headers (see engine/io/comfy_layout.h):
//      wan2.1_*.safetensors           DiT (fp16/bf16/fp8_e4m3fn, fp8_scaled);
//      wan2.2_ti2v_5B_*.safetensors   its config is inferred from the tensor
//                                     shapes unless config.json is present
//      wan2.2_{t2v,i2v}_high_noise_14B_*.safetensors + ..._low_noise_14B_*.safetensors
//                                     a Wan2.2 expert pair: both experts have the
//                                     same shapes, so the role comes from the file
//                                     name ("high_noise" / "low_noise"); one
//                                     without the other is NotFound
//      umt5_xxl_*.safetensors         umT5-XXL encoder in HF T5 naming (not fp8_scaled)
//      clip_vision_h.safetensors      CLIP (Wan2.1 i2v only): HF CLIPVisionModel naming (vision_model.*)
//                                     or the official visual.* naming; open_clip naming refused
//      wan_2.1_vae.safetensors        VAE; Wan2.1 or Wan2.2 (wan2.2_vae.safetensors)
//                                     is read from its header; with both present,
//                                     the one matching the DiT's latent channels
//      spiece.model                   tokenizer (ComfyUI bundles it in its code, so
//                                     it must be copied here; google/umt5-xxl/spiece.model
//                                     and tokenizer/spiece.model are accepted too)
//      videogen.json                  optional, as above
#pragma once

#include <cstdint>
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
inline constexpr char kVae22File[] = "Wan2.2_VAE.pth";
inline constexpr char kVideogenConfigFile[] = "videogen.json";
// The sub-directories of a Wan2.2 expert pair (official layout).
inline constexpr char kHighNoiseDir[] = "high_noise_model";
inline constexpr char kLowNoiseDir[] = "low_noise_model";

enum class ModelLayout {
  kOfficial,  // the file names above; tensors under the official names
  kComfyUI,   // single files; open them with OpenComfyCheckpoint (comfy_layout.h)
};

// Which Wan VAE a checkpoint holds.
enum class VaeKind {
  kWan21,  // wan/modules/vae2_1.py: z_dim 16, stride (4, 8, 8), RGB encoder input
  kWan22,  // wan/modules/vae2_2.py: z_dim 48, stride (4, 16, 16), 2x2-patchified (12-channel) encoder input
};
// "wan2.1", "wan2.2".
inline const char* VaeKindName(VaeKind k) { return k == VaeKind::kWan22 ? "wan2.2" : "wan2.1"; }
// Pixels per latent pixel along height and width: 8 (Wan2.1), 16 (Wan2.2).
inline int64_t VaeSpatialStride(VaeKind k) { return k == VaeKind::kWan22 ? 16 : 8; }
// Latent channels (z_dim): 16 (Wan2.1), 48 (Wan2.2).
inline int64_t VaeLatentChannels(VaeKind k) { return k == VaeKind::kWan22 ? 48 : 16; }

// Absolute paths of the files present; "" for the optional ones that are absent.
struct ModelFiles {
  std::string dir;
  ModelLayout layout = ModelLayout::kOfficial;
  // The model's DiT, or the HIGH-noise expert of a Wan2.2 expert pair.
  std::string dit_config;   // required in the official layout, optional in ComfyUI's
  std::string dit;          // the index (sharded) or the single file; required
  // The LOW-noise expert of a Wan2.2 expert pair (A14B); "" for one-DiT models.
  std::string dit_low_noise_config;  // low_noise_model/config.json (official); "" in ComfyUI's
  std::string dit_low_noise;         // the index or the single file
  std::string t5;           // required
  std::string tokenizer;    // required
  std::string vae;          // required
  VaeKind vae_kind = VaeKind::kWan21;  // official: from the file name; ComfyUI: from its header
  std::string clip;                    // optional here (the Wan2.1 i2v loader requires it)
  std::string videogen_config;  // optional

  bool has_expert_pair() const { return !dit_low_noise.empty(); }
};

struct FindModelFilesOptions {
  // For readers of checkpoint headers only (the memory planner): only the DiT
  // (or the expert pair) is required -- config.json, the encoders, the VAE and
  // the tokenizer are optional -- and each official `.pth` may be replaced by
  // a `.safetensors` file of the same stem (the sparse stand-ins written by
  // engine/synth). Default false: everything the loader needs is required.
  bool headers_only = false;
};

// The official layout when it is complete, else the ComfyUI layout when its
// DiT (or expert pair), T5, VAE and tokenizer are all found. NotFound naming
// the directory and every missing required file of the official layout (and
// of the ComfyUI one when some of its files were found; a lone high- or
// low-noise expert names its missing partner); InvalidArgument when `dir` is
// not a directory, holds both official VAE files, or holds two ComfyUI files
// of one component that the DiT cannot tell apart (see comfy_layout.h);
// DataLoss for an unreadable safetensors header.
absl::StatusOr<ModelFiles> FindModelFiles(const std::string& dir, const FindModelFilesOptions& options = {});

}  // namespace videogen::io

// WanModel (DiT) configuration, mirroring the constructor of the official
// wan.modules.model.WanModel and the presets of wan/configs/*.py.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::models {

// kTI2V: Wan2.2 TI2V-5B (48-channel latents of the Wan2.2 VAE; text- and
// image-to-video in one model, the image entering as latent frame 0).
enum class WanModelType { kT2V, kI2V, kFLF2V, kTI2V };

std::string_view ModelTypeName(WanModelType type);  // "t2v", "i2v", "flf2v", "ti2v"

// Which official WanModel: Wan2.1 (wan/modules/model.py of Wan2.1: i2v/flf2v
// have CLIP image cross-attention) or Wan2.2 (its model.py: per-token
// timesteps, no image cross-attention for any model_type; i2v = I2V-A14B).
enum class WanVersion { kWan21, kWan22 };

struct WanConfig {
  WanVersion version = WanVersion::kWan21;
  WanModelType model_type = WanModelType::kT2V;
  std::array<int64_t, 3> patch_size = {1, 2, 2};
  int64_t text_len = 512;
  int64_t in_dim = 16;
  int64_t dim = 2048;
  int64_t ffn_dim = 8192;
  int64_t freq_dim = 256;
  int64_t text_dim = 4096;
  int64_t out_dim = 16;
  int64_t num_heads = 16;
  int64_t num_layers = 32;
  bool qk_norm = true;
  bool cross_attn_norm = true;
  double eps = 1e-6;

  int64_t head_dim() const { return dim / num_heads; }
  // CLIP image context (img_emb, k_img/v_img): Wan2.1 i2v and flf2v.
  bool has_clip_input() const {
    return version == WanVersion::kWan21 && (model_type == WanModelType::kI2V || model_type == WanModelType::kFLF2V);
  }
  // The conditioning `y` (4 mask + VAE channels) concatenated to x: i2v, flf2v.
  bool has_y_input() const { return model_type == WanModelType::kI2V || model_type == WanModelType::kFLF2V; }

  // The WanModel kwargs as in fixture.json `config` or the official
  // `config.json` of a model directory; absent keys keep the defaults above,
  // unknown keys are ignored. `version` says which official WanModel the
  // kwargs are for (config.json does not say; model_type "ti2v" implies
  // Wan2.2, "flf2v" Wan2.1). InvalidArgument naming the field for bad values
  // (unknown model_type, a model_type the version lacks, dim not divisible by
  // num_heads, odd head_dim, window_size other than [-1, -1], non-positive sizes).
  static absl::StatusOr<WanConfig> FromJson(const nlohmann::json& json,
                                            WanVersion version = WanVersion::kWan21);

  // The kwargs of a checkpoint that has no config.json (ComfyUI single
  // files), from its tensor shapes (headers only); num_heads from head_dim
  // 128 as in every official config, text_len 512. The version and
  // model_type: img_emb -> Wan2.1 i2v (flf2v with emb_pos); 48 input channels
  // -> Wan2.2 ti2v; in_dim = out_dim + 20 without img_emb -> Wan2.2 i2v;
  // else t2v (Wan2.1 and Wan2.2 t2v DiTs are the same network). InvalidArgument naming the
  // tensor that is missing or of the wrong rank (and suggesting a config.json).
  static absl::StatusOr<WanConfig> FromTensorShapes(const io::TensorSource& source);

  // True when both describe the same network: every field but text_len and eps.
  // (A t2v DiT of either version is one network: the version is compared
  // only for image models.)
  bool SameArchitecture(const WanConfig& other) const;

  // Presets of wan/configs: T2V-1.3B, T2V-14B, I2V-14B (480P and 720P share
  // the DiT), FLF2V-14B (720P).
  static WanConfig T2V_1_3B();
  static WanConfig T2V_14B();
  static WanConfig I2V_14B();
  static WanConfig FLF2V_14B();
  // Wan2.2 (wan/configs of Wan2.2): each expert of T2V-A14B / I2V-A14B, and TI2V-5B.
  static WanConfig T2V_A14B();
  static WanConfig I2V_A14B();
  static WanConfig TI2V_5B();
};

}  // namespace videogen::models

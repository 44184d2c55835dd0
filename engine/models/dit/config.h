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

enum class WanModelType { kT2V, kI2V, kFLF2V };

std::string_view ModelTypeName(WanModelType type);  // "t2v", "i2v", "flf2v"

struct WanConfig {
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
  bool has_image_input() const { return model_type != WanModelType::kT2V; }

  // The WanModel kwargs as in fixture.json `config` or the official
  // `config.json` of a model directory; absent keys keep the defaults above,
  // unknown keys are ignored. InvalidArgument naming the field for bad values
  // (unknown model_type, dim not divisible by num_heads, odd head_dim,
  // window_size other than [-1, -1], non-positive sizes).
  static absl::StatusOr<WanConfig> FromJson(const nlohmann::json& json);

  // The kwargs of a checkpoint that has no config.json (ComfyUI single
  // files), from its tensor shapes (headers only); num_heads from head_dim
  // 128 as in every official config, text_len 512. InvalidArgument naming the
  // tensor that is missing or of the wrong rank (and suggesting a config.json).
  static absl::StatusOr<WanConfig> FromTensorShapes(const io::TensorSource& source);

  // True when both describe the same network: every field but text_len and eps.
  bool SameArchitecture(const WanConfig& other) const;

  // Presets of wan/configs: T2V-1.3B, T2V-14B, I2V-14B (480P and 720P share
  // the DiT), FLF2V-14B (720P).
  static WanConfig T2V_1_3B();
  static WanConfig T2V_14B();
  static WanConfig I2V_14B();
  static WanConfig FLF2V_14B();
};

}  // namespace videogen::models

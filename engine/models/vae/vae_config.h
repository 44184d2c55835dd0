// Configuration of the Wan2.1 3D causal VAE (wan/modules/vae.py, WanVAE_ kwargs).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace videogen::models::vae {

// The WanVAE_ constructor arguments, with the official spelling
// (`temperal_downsample` is the reference's name).
struct VaeConfig {
  int64_t dim = 96;
  int64_t z_dim = 16;
  // 1 to 4 levels (the reference decoder cannot be built with more).
  std::vector<int64_t> dim_mult = {1, 2, 4, 4};
  int64_t num_res_blocks = 2;
  // Resolution scales (1, 0.5, ...) after which an AttentionBlock follows the
  // residual blocks of a level. Empty in every official config.
  std::vector<double> attn_scales;
  // One entry per downsampling level (dim_mult.size() - 1); the decoder
  // uses the reversed list for its time upsampling.
  std::vector<bool> temperal_downsample = {false, true, true};
  // Training only (inference runs dropout as identity).
  double dropout = 0.0;

  // The official video VAE (`_video_vae` in wan/modules/vae.py, Wan2.1_VAE.pth).
  static VaeConfig Wan21();

  // Parses the WanVAE_ kwargs object (fixture `config`, pipeline `config.vae`).
  // Every field is required; InvalidArgument naming the missing or invalid field.
  static absl::StatusOr<VaeConfig> FromJson(const nlohmann::json& json);

  // InvalidArgument naming the offending field.
  absl::Status Validate() const;

  // Spatial down-sampling factor of the encoder (2^(levels - 1)).
  int64_t spatial_stride() const;
  // Temporal down-sampling factor (2^(number of true temperal_downsample entries used)).
  int64_t temporal_stride() const;
};

}  // namespace videogen::models::vae

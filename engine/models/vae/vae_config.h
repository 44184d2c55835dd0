// Configuration of the Wan 3D causal VAEs: the Wan2.1 VAE (wan/modules/vae.py)
// and the Wan2.2 TI2V-5B VAE (wan/modules/vae2_2.py), as WanVAE_ kwargs.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace videogen::models::vae {

// Which reference VAE a config describes (which WanVAE_ class it builds).
enum class VaeVersion {
  kWan21,  // wan/modules/vae.py: 3-channel encoder input, z_dim 16, stride (4, 8, 8)
  kWan22,  // wan/modules/vae2_2.py: 2x2 patchify, residual-shortcut levels, z_dim 48, stride (4, 16, 16)
};

// The WanVAE_ constructor arguments, with the official spelling
// (`temperal_downsample` is the reference's name).
struct VaeConfig {
  VaeVersion version = VaeVersion::kWan21;
  // Encoder width (Wan2.1: also the decoder width).
  int64_t dim = 96;
  // kWan22 only: the decoder width (vae2_2.py WanVAE_'s dec_dim; 256 in the
  // official VAE). Must stay 0 for kWan21, whose decoder is `dim` wide.
  int64_t dec_dim = 0;
  int64_t z_dim = 16;
  // 1 to 4 levels (the reference decoder cannot be built with more).
  std::vector<int64_t> dim_mult = {1, 2, 4, 4};
  int64_t num_res_blocks = 2;
  // Resolution scales (1, 0.5, ...) after which an AttentionBlock follows the
  // residual blocks of a level. Empty in every official config. The Wan2.2
  // levels have no attention: kWan22 ignores it, as the reference does.
  std::vector<double> attn_scales;
  // One entry per downsampling level (dim_mult.size() - 1); the decoder
  // uses the reversed list for its time upsampling.
  std::vector<bool> temperal_downsample = {false, true, true};
  // Training only (inference runs dropout as identity).
  double dropout = 0.0;

  // The official video VAE (`_video_vae` in wan/modules/vae.py, Wan2.1_VAE.pth).
  static VaeConfig Wan21();
  // The official TI2V-5B VAE (Wan2_2_VAE in wan/modules/vae2_2.py, Wan2.2_VAE.pth):
  // dim 160, dec_dim 256, z_dim 48, dim_mult [1, 2, 4, 4], 2 res blocks,
  // no attention scales, temperal_downsample [false, true, true].
  static VaeConfig Wan22();

  // Parses the WanVAE_ kwargs object (fixture `config`, pipeline `config.vae`)
  // of `version`. Every field is required (`dec_dim` for kWan22, where it must
  // be present, and only there); InvalidArgument naming the missing or invalid field.
  static absl::StatusOr<VaeConfig> FromJson(const nlohmann::json& json, VaeVersion version);
  // As above, with the version told by the object: kWan22 when it has a
  // `dec_dim` field (only vae2_2.py's WanVAE_ takes one), else kWan21.
  static absl::StatusOr<VaeConfig> FromJson(const nlohmann::json& json);

  // InvalidArgument naming the offending field.
  absl::Status Validate() const;

  // Side of the spatial patch folded into channels before the encoder (and
  // unfolded after the decoder): 2 for kWan22, 1 for kWan21.
  int64_t patch_size() const;
  // Video pixels per latent pixel along H and W: patch_size() * 2^(levels - 1)
  // (8 for the official Wan2.1 VAE, 16 for Wan2.2). Videos given to the
  // encoder must have H and W multiples of it.
  int64_t spatial_stride() const;
  // Temporal down-sampling factor (2^(number of true temperal_downsample entries used)).
  int64_t temporal_stride() const;
};

}  // namespace videogen::models::vae

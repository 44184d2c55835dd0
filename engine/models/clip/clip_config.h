// Configuration of the CLIP visual tower Wan2.1 uses for image conditioning
// (wan/modules/clip.py VisionTransformer inside XLMRobertaCLIP, read from the
// XLMRobertaCLIP constructor kwargs).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace videogen::models {

// AttentionBlock MLP activation ('quick_gelu': x * sigmoid(1.702 x); 'gelu': erf GELU).
enum class ClipActivation { kQuickGelu, kGelu };

// VisionTransformer pool_type. kToken / kTokenFc prepend a cls token; the
// pooling head itself is never run by Wan (use_31_block).
enum class ClipPool { kToken, kTokenFc, kAttnPool };

struct ClipVisionConfig {
  int64_t image_size = 224;
  int64_t patch_size = 14;
  int64_t vision_dim = 1280;
  double vision_mlp_ratio = 4;
  int64_t vision_heads = 16;
  int64_t vision_layers = 32;
  ClipPool vision_pool = ClipPool::kToken;
  // pre_norm: LayerNorm after the embeddings, and a patch conv without bias.
  bool vision_pre_norm = true;
  // post_norm: blocks normalise the branch outputs (x + norm(attn(x))).
  bool vision_post_norm = false;
  ClipActivation activation = ClipActivation::kGelu;
  double norm_eps = 1e-5;

  // Patches per side (the reference floors when image_size % patch_size != 0).
  int64_t grid() const { return image_size / patch_size; }
  bool has_cls_token() const { return vision_pool != ClipPool::kAttnPool; }
  // Tokens per image: (image_size / patch_size)^2 (+1 with a cls token).
  int64_t num_tokens() const { return grid() * grid() + (has_cls_token() ? 1 : 0); }
  int64_t mlp_dim() const { return static_cast<int64_t>(static_cast<double>(vision_dim) * vision_mlp_ratio); }
  int64_t head_dim() const { return vision_dim / vision_heads; }
  // Blocks run by CLIPModel.visual (use_31_block=True): all but the last.
  int64_t blocks_used() const { return vision_layers > 0 ? vision_layers - 1 : 0; }

  // The XLMRobertaCLIP kwargs as in fixture.json `config` (image_size,
  // patch_size, vision_dim, vision_mlp_ratio, vision_heads, vision_layers,
  // vision_pool, vision_pre_norm, vision_post_norm, activation, norm_eps; the
  // textual and embed_dim keys are ignored). Absent keys keep the defaults
  // above. InvalidArgument naming the field for non-positive sizes,
  // vision_dim not divisible by vision_heads, unknown pool types and
  // activations ('swi_glu' is not supported).
  static absl::StatusOr<ClipVisionConfig> FromJson(const nlohmann::json& json);

  // open-clip xlm-roberta-large-vit-huge-14 (clip_xlm_roberta_vit_h_14): the defaults above.
  static ClipVisionConfig VitHuge14();
};

}  // namespace videogen::models

#include "engine/models/clip/clip_config.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/models/common/config_json.h"

namespace videogen::models {
namespace {

using json = nlohmann::json;

std::string StringOf(const json& j, const char* key) { return j[key].is_string() ? j[key].get<std::string>() : ""; }

}  // namespace

absl::StatusOr<ClipVisionConfig> ClipVisionConfig::FromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config: must be an object");
  ClipVisionConfig c;
  for (auto [key, field] : {std::pair{"image_size", &c.image_size}, {"patch_size", &c.patch_size},
                            {"vision_dim", &c.vision_dim}, {"vision_heads", &c.vision_heads},
                            {"vision_layers", &c.vision_layers}}) {
    if (absl::Status s = ReadPositiveInt(j, key, field); !s.ok()) return s;
  }
  if (absl::Status s = ReadPositiveNumber(j, "vision_mlp_ratio", &c.vision_mlp_ratio); !s.ok()) return s;
  if (absl::Status s = ReadPositiveNumber(j, "norm_eps", &c.norm_eps); !s.ok()) return s;
  if (absl::Status s = ReadBool(j, "vision_pre_norm", &c.vision_pre_norm); !s.ok()) return s;
  if (absl::Status s = ReadBool(j, "vision_post_norm", &c.vision_post_norm); !s.ok()) return s;
  if (j.contains("vision_pool")) {
    const std::string pool = StringOf(j, "vision_pool");
    if (pool == "token") {
      c.vision_pool = ClipPool::kToken;
    } else if (pool == "token_fc") {
      c.vision_pool = ClipPool::kTokenFc;
    } else if (pool == "attn_pool") {
      c.vision_pool = ClipPool::kAttnPool;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("config.vision_pool: unsupported '", pool, "' (token, token_fc, attn_pool)"));
    }
  }
  if (j.contains("activation")) {
    const std::string act = StringOf(j, "activation");
    if (act == "gelu") {
      c.activation = ClipActivation::kGelu;
    } else if (act == "quick_gelu") {
      c.activation = ClipActivation::kQuickGelu;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("config.activation: unsupported '", act, "' (gelu, quick_gelu)"));
    }
  }
  if (c.vision_dim % c.vision_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("config.vision_heads: vision_dim ", c.vision_dim,
                                                   " is not divisible by ", c.vision_heads, " heads"));
  }
  if (c.mlp_dim() <= 0) return absl::InvalidArgumentError("config.vision_mlp_ratio: gives an empty MLP");
  return c;
}

ClipVisionConfig ClipVisionConfig::VitHuge14() { return ClipVisionConfig(); }

}  // namespace videogen::models

#include "engine/models/t5/t5_config.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/models/common/config_json.h"

namespace videogen::models {

using json = nlohmann::json;

absl::StatusOr<T5Config> T5Config::FromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config: must be an object");
  T5Config c;
  for (auto [key, field] : {std::pair{"vocab_size", &c.vocab}, {"vocab", &c.vocab}, {"dim", &c.dim},
                            {"dim_attn", &c.dim_attn}, {"dim_ffn", &c.dim_ffn}, {"num_heads", &c.num_heads},
                            {"encoder_layers", &c.num_layers}, {"num_layers", &c.num_layers},
                            {"num_buckets", &c.num_buckets}}) {
    if (absl::Status s = ReadPositiveInt(j, key, field); !s.ok()) return s;
  }
  if (j.contains("shared_pos")) {
    if (!j["shared_pos"].is_boolean()) return absl::InvalidArgumentError("config.shared_pos: must be a boolean");
    c.shared_pos = j["shared_pos"].get<bool>();
  }
  if (c.dim_attn % c.num_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.num_heads: dim_attn ", c.dim_attn, " is not divisible by ", c.num_heads, " heads"));
  }
  if (c.num_buckets % 2 != 0 || c.num_buckets < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.num_buckets: must be even and >= 4 (bidirectional buckets), got ", c.num_buckets));
  }
  return c;
}

T5Config T5Config::UmT5Xxl() { return T5Config(); }

}  // namespace videogen::models

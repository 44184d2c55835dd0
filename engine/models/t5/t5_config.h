// T5Encoder configuration, mirroring the constructor of the official
// wan.modules.t5.T5Encoder (as built by umt5_xxl(encoder_only=True)).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace videogen::models {

struct T5Config {
  int64_t vocab = 256384;
  int64_t dim = 4096;
  int64_t dim_attn = 4096;
  int64_t dim_ffn = 10240;
  int64_t num_heads = 64;
  int64_t num_layers = 24;
  int64_t num_buckets = 32;
  // false (umT5): every block has its own relative position embedding
  // (`blocks.N.pos_embedding`); true: one shared `pos_embedding`.
  bool shared_pos = false;
  // Maximum distance of the log-spaced relative buckets (T5RelativeEmbedding
  // max_dist; not a constructor argument of the reference, always 128).
  int64_t max_dist = 128;
  // T5LayerNorm epsilon (fixed in the reference).
  double eps = 1e-6;

  int64_t head_dim() const { return dim_attn / num_heads; }

  // The T5Encoder kwargs as in fixture.json `config` (vocab, dim, dim_attn,
  // dim_ffn, num_heads, num_layers, num_buckets, shared_pos; `dropout` is
  // ignored; the umt5_xxl factory spellings `vocab_size` / `encoder_layers` are
  // accepted too). Absent keys keep the defaults above, unknown keys are
  // ignored. InvalidArgument naming the field for non-positive sizes, a
  // dim_attn not divisible by num_heads or an odd num_buckets.
  static absl::StatusOr<T5Config> FromJson(const nlohmann::json& json);

  // umT5-XXL encoder (the Wan2.1 text encoder): the defaults above.
  static T5Config UmT5Xxl();
};

}  // namespace videogen::models

// The time conditioning the DiT blocks and head read: one row per sample
// (Wan2.1, and Wan2.2 with a timestep per sample), or -- Wan2.2 per-token
// timesteps (TI2V: latent frame 0 at t = 0) -- one row per distinct timestep
// value plus each token's row index. Distinct values are few (two for TI2V),
// so the time embedding and projection run on a handful of rows instead of
// every token; the per-token values are the same rows the official code
// computes token by token.
#pragma once

#include <torch/types.h>

namespace videogen::models {

struct TimeRows {
  // [R, ...]: R = batch (per sample) or the number of distinct timesteps.
  torch::Tensor rows;
  // Undefined (per sample), or int64 [B, L]: the row of every token.
  torch::Tensor index;

  // r: [R, dim] (values derived row by row from `rows`) -> [B, 1, dim] per
  // sample, or [B, L, dim] per token; broadcastable against [B, L, dim].
  torch::Tensor PerToken(const torch::Tensor& r) const;
};

// sinusoidal_embedding_1d in float64: [N, dim] = [cos(t f), sin(t f)], f = 10000^(-i/(dim/2)).
torch::Tensor SinusoidalEmbedding(int64_t dim, const torch::Tensor& t);

// The rows to embed for timesteps `t`: [B] (per sample) -> rows = t, no index;
// [B, L] (per token) -> rows = the distinct values of t (sorted), index [B, L].
TimeRows DistinctTimesteps(const torch::Tensor& t);

}  // namespace videogen::models

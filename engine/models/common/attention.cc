#include "engine/models/common/attention.h"

#include <cmath>

#include <ATen/ATen.h>

namespace videogen::models {
namespace {

double Scale(const torch::Tensor& q, const AttentionOptions& options) {
  return options.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
}

// Additive mask [B, 1, 1, Lk] with -inf beyond each sample's key length.
torch::Tensor KeyMask(const torch::Tensor& key_lens, int64_t lk, torch::ScalarType dtype) {
  const torch::Tensor idx = at::arange(lk, key_lens.options()).view({1, lk});
  const torch::Tensor invalid = idx >= key_lens.view({-1, 1});
  return at::zeros(invalid.sizes(), invalid.options().dtype(dtype))
      .masked_fill(invalid, -std::numeric_limits<float>::infinity())
      .view({-1, 1, 1, lk});
}

}  // namespace

torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const AttentionOptions& options) {
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  const torch::Tensor qh = q.transpose(1, 2);
  const torch::Tensor kh = k.transpose(1, 2);
  const torch::Tensor vh = v.transpose(1, 2);
  torch::Tensor scores = at::matmul(qh, kh.transpose(-2, -1)).to(torch::kFloat32) * Scale(q, options);
  if (options.key_lens) scores = scores + KeyMask(options.key_lens->to(q.device()), k.size(1), torch::kFloat32);
  const torch::Tensor probs = at::softmax(scores, -1).to(q.scalar_type());
  return at::matmul(probs, vh).transpose(1, 2).contiguous();
}

torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const AttentionOptions& options) {
  return NaiveAttention(q, k, v, options);
}

}  // namespace videogen::models

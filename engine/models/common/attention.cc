#include "engine/models/common/attention.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "engine/common/torch_features.h"

namespace videogen::models {
namespace {

double Scale(const torch::Tensor& q, const AttentionOptions& options) {
  return options.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
}

// Boolean mask [B, 1, 1, Lk]: true where the key is valid.
torch::Tensor ValidKeys(const torch::Tensor& key_lens, int64_t lk, torch::Device device) {
  const torch::Tensor idx = at::arange(lk, torch::TensorOptions().dtype(torch::kLong).device(device)).view({1, lk});
  return (idx < key_lens.to(device).view({-1, 1})).view({-1, 1, 1, lk});
}

}  // namespace

torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const AttentionOptions& options) {
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  const torch::Tensor qh = q.transpose(1, 2).to(torch::kFloat32);
  const torch::Tensor kh = k.transpose(1, 2).to(torch::kFloat32);
  const torch::Tensor vh = v.transpose(1, 2).to(torch::kFloat32);
  torch::Tensor scores = at::matmul(qh, kh.transpose(-2, -1)) * Scale(q, options);
  if (options.key_lens) {
    scores = scores.masked_fill(ValidKeys(*options.key_lens, k.size(1), q.device()).logical_not(),
                                -std::numeric_limits<float>::infinity());
  }
  return at::matmul(at::softmax(scores, -1), vh).transpose(1, 2).contiguous().to(q.scalar_type());
}

torch::Tensor BlockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const AttentionOptions& options, const AttentionBlocks& blocks) {
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  const int64_t batch = q.size(0), lq = q.size(1), heads = q.size(2), d = q.size(3);
  const double scale = Scale(q, options);
  torch::Tensor out = at::empty({batch, lq, heads, d}, q.options().dtype(torch::kFloat32));
  std::vector<int64_t> lens(batch, k.size(1));
  if (options.key_lens) {
    const torch::Tensor kl = options.key_lens->to(torch::kCPU, torch::kLong).contiguous();
    for (int64_t b = 0; b < batch; ++b) lens[b] = std::min<int64_t>(kl.data_ptr<int64_t>()[b], k.size(1));
  }
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t lk = lens[b];
    // [H, L, D], contiguous for the batched GEMMs.
    const torch::Tensor qb = q[b].transpose(0, 1).to(torch::kFloat32).mul(scale).contiguous();
    const torch::Tensor kb = k[b].narrow(0, 0, lk).transpose(0, 1).to(torch::kFloat32).contiguous();
    const torch::Tensor vb = v[b].narrow(0, 0, lk).transpose(0, 1).to(torch::kFloat32).contiguous();
    for (int64_t q0 = 0; q0 < lq; q0 += blocks.query_block) {
      const int64_t bq = std::min(blocks.query_block, lq - q0);
      const torch::Tensor qblk = qb.narrow(1, q0, bq);
      torch::Tensor acc, m, l;
      for (int64_t k0 = 0; k0 < lk; k0 += blocks.key_block) {
        const int64_t bk = std::min(blocks.key_block, lk - k0);
        torch::Tensor s = at::bmm(qblk, kb.narrow(1, k0, bk).transpose(1, 2));  // [H, bq, bk]
        const torch::Tensor block_max = std::get<0>(s.max(-1, /*keepdim=*/true));
        if (!acc.defined()) {
          m = block_max;
          s.sub_(m).exp_();
          l = s.sum(-1, /*keepdim=*/true);
          acc = at::bmm(s, vb.narrow(1, k0, bk));
          continue;
        }
        const torch::Tensor m_new = at::maximum(m, block_max);
        const torch::Tensor alpha = (m - m_new).exp_();
        s.sub_(m_new).exp_();
        l.mul_(alpha).add_(s.sum(-1, /*keepdim=*/true));
        acc.mul_(alpha).baddbmm_(s, vb.narrow(1, k0, bk));
        m = m_new;
      }
      out[b].narrow(0, q0, bq).copy_(acc.div_(l).transpose(0, 1));
    }
  }
  return out.to(q.scalar_type());
}

torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const AttentionOptions& options) {
#if VIDEOGEN_TORCH_HAS_SDPA
  if (q.is_cuda()) {
    c10::optional<torch::Tensor> mask;
    if (options.key_lens) mask = ValidKeys(*options.key_lens, k.size(1), q.device());
    return at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), mask,
                                            /*dropout_p=*/0.0, /*is_causal=*/false, options.scale)
        .transpose(1, 2);
  }
#endif
  return BlockedAttention(q, k, v, options);
}

}  // namespace videogen::models

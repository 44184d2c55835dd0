#include "engine/models/dit/attention_block.h"

#include <ATen/ATen.h>

#include "engine/models/common/attention.h"
#include "engine/models/dit/fused_ops.h"

namespace videogen::models {
namespace {

// proj(x), RMS-normalised when `norm` is set, as [B, L, heads, head_dim].
// bf16/fp16 on the CPU: the norm as one pass (RmsNormRope without tables).
torch::Tensor Heads(quant::QuantLinear& proj, WanRMSNorm* norm, const torch::Tensor& x, int64_t heads) {
  torch::Tensor y = proj(x);
  if (norm != nullptr && !norm->is_empty()) {
    if (FusedKernelDtype(y.scalar_type()) && y.device().is_cpu()) {
      return RmsNormRope(y.reshape({-1, y.size(-1)}), (*norm)->weight, (*norm)->eps(), heads, nullptr, nullptr)
          .view({x.size(0), x.size(1), heads, -1});
    }
    y = (*norm)(y);
  }
  return y.view({x.size(0), x.size(1), heads, -1});
}

// The float32 rope tables of `t`, made from the float64 ones when absent.
torch::Tensor RopeF32(const torch::Tensor& f32, const torch::Tensor& f64) {
  return f32.defined() ? f32 : f64.to(torch::kFloat32);
}

}  // namespace

WanSelfAttentionImpl::WanSelfAttentionImpl(int64_t dim, int64_t num_heads, bool qk_norm, double eps,
                                           quant::ParamInit init)
    : num_heads_(num_heads) {
  q_ = register_module("q", quant::QuantLinear(dim, dim, init));
  k_ = register_module("k", quant::QuantLinear(dim, dim, init));
  v_ = register_module("v", quant::QuantLinear(dim, dim, init));
  o_ = register_module("o", quant::QuantLinear(dim, dim, init));
  if (qk_norm) {
    norm_q_ = register_module("norm_q", WanRMSNorm(dim, eps));
    norm_k_ = register_module("norm_k", WanRMSNorm(dim, eps));
  }
}

torch::Tensor WanSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& seq_lens,
                                            const std::vector<RopeTables>& rope) {
  // x: [B, L, dim]
  if (FusedKernelDtype(compute_dtype())) return ForwardLowPrecision(x, seq_lens, rope);
  const torch::Tensor q = Heads(q_, &norm_q_, x, num_heads_);
  const torch::Tensor k = Heads(k_, &norm_k_, x, num_heads_);
  const torch::Tensor v = Heads(v_, nullptr, x, num_heads_);
  std::vector<torch::Tensor> qs, ks;
  for (int64_t b = 0; b < x.size(0); ++b) {
    qs.push_back(ApplyRope(q[b], rope[b]));
    ks.push_back(ApplyRope(k[b], rope[b]));
  }
  const torch::Tensor out = Attention(at::stack(qs), at::stack(ks), v, {.key_lens = seq_lens});
  return o_(out.flatten(2));
}

torch::ScalarType WanSelfAttentionImpl::compute_dtype() const { return q_->compute_dtype(); }

torch::Tensor WanSelfAttentionImpl::ForwardLowPrecision(const torch::Tensor& x, const torch::Tensor& seq_lens,
                                                        const std::vector<RopeTables>& rope) {
  // x: [B, L, dim], cast once for the three projections
  const torch::Tensor xc = x.to(compute_dtype());
  const int64_t batch = x.size(0), len = x.size(1);
  const torch::Tensor q = q_(xc), k = k_(xc);
  std::vector<torch::Tensor> qs, ks;
  for (int64_t b = 0; b < batch; ++b) {
    const torch::Tensor cos = RopeF32(rope[b].cos_f32, rope[b].cos), sin = RopeF32(rope[b].sin_f32, rope[b].sin);
    if (norm_q_.is_empty()) {
      qs.push_back(ApplyRopeF32(q[b].view({len, num_heads_, -1}), cos, sin));
      ks.push_back(ApplyRopeF32(k[b].view({len, num_heads_, -1}), cos, sin));
    } else {
      qs.push_back(RmsNormRope(q[b], norm_q_->weight, norm_q_->eps(), num_heads_, &cos, &sin));
      ks.push_back(RmsNormRope(k[b], norm_k_->weight, norm_k_->eps(), num_heads_, &cos, &sin));
    }
  }
  const auto batched = [](std::vector<torch::Tensor>& t) { return t.size() == 1 ? t[0].unsqueeze(0) : at::stack(t); };
  const torch::Tensor v = v_(xc).view({batch, len, num_heads_, -1});
  const torch::Tensor out = Attention(batched(qs), batched(ks), v, {.key_lens = seq_lens});
  return o_(out.flatten(2));
}

WanCrossAttentionImpl::WanCrossAttentionImpl(int64_t dim, int64_t num_heads, bool qk_norm, double eps, bool image,
                                             int64_t text_len, quant::ParamInit init)
    : num_heads_(num_heads), text_len_(text_len) {
  q_ = register_module("q", quant::QuantLinear(dim, dim, init));
  k_ = register_module("k", quant::QuantLinear(dim, dim, init));
  v_ = register_module("v", quant::QuantLinear(dim, dim, init));
  o_ = register_module("o", quant::QuantLinear(dim, dim, init));
  if (qk_norm) {
    norm_q_ = register_module("norm_q", WanRMSNorm(dim, eps));
    norm_k_ = register_module("norm_k", WanRMSNorm(dim, eps));
  }
  if (image) {
    k_img_ = register_module("k_img", quant::QuantLinear(dim, dim, init));
    v_img_ = register_module("v_img", quant::QuantLinear(dim, dim, init));
    if (qk_norm) norm_k_img_ = register_module("norm_k_img", WanRMSNorm(dim, eps));
  }
}

torch::Tensor WanCrossAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  // x: [B, L, dim]; context: [B, L_ctx, dim]
  const torch::Tensor q = Heads(q_, &norm_q_, x, num_heads_);
  torch::Tensor text = context;
  torch::Tensor image_out;
  if (!k_img_.is_empty()) {
    const int64_t image_len = context.size(1) - text_len_;
    const torch::Tensor image = context.narrow(1, 0, image_len);
    text = context.narrow(1, image_len, text_len_);
    image_out = Attention(q, Heads(k_img_, &norm_k_img_, image, num_heads_), Heads(v_img_, nullptr, image, num_heads_));
  }
  torch::Tensor out =
      Attention(q, Heads(k_, &norm_k_, text, num_heads_), Heads(v_, nullptr, text, num_heads_)).flatten(2);
  if (image_out.defined()) out = out + image_out.flatten(2);
  return o_(out);
}

WanAttentionBlockImpl::WanAttentionBlockImpl(const WanConfig& c, quant::ParamInit init) : eps_(c.eps) {
  self_attn_ = register_module("self_attn", WanSelfAttention(c.dim, c.num_heads, c.qk_norm, c.eps, init));
  if (c.cross_attn_norm) {
    norm3_ = register_module(
        "norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dim}).eps(c.eps).elementwise_affine(true)));
  }
  cross_attn_ = register_module(
      "cross_attn", WanCrossAttention(c.dim, c.num_heads, c.qk_norm, c.eps, c.has_clip_input(), c.text_len, init));
  ffn_ = register_module("ffn", GeluMlp(c.dim, c.ffn_dim, c.dim, "tanh", init));
  modulation = register_parameter("modulation", torch::zeros({1, 6, c.dim}));
}

torch::Tensor WanAttentionBlockImpl::forward(const torch::Tensor& x, const TimeRows& e0, const torch::Tensor& seq_lens,
                                             const std::vector<RopeTables>& rope, const torch::Tensor& context) {
  // x: [B, L, dim]; e0.rows: [R, 6, dim] -> e[k]: [B, 1 or L, dim]
  const torch::Tensor mod = modulation.to(torch::kFloat32) + e0.rows;
  std::vector<torch::Tensor> e;
  for (int64_t k = 0; k < 6; ++k) e.push_back(e0.PerToken(mod.select(1, k)));
  // Modulation as fused multiply-adds: e[0] + norm1(x) * (1 + e[1]), x + y * e[2], ...
  // bf16/fp16 compute: LayerNorm, modulation and the cast as one pass (fused_ops.h).
  const torch::ScalarType attn_dtype = self_attn_->compute_dtype(), ffn_dtype = ffn_->compute_dtype();
  const torch::Tensor y = self_attn_(FusedKernelDtype(attn_dtype)
                                         ? ModulatedLayerNorm(x, e[0], e[1], eps_, attn_dtype)
                                         : at::addcmul(e[0], LayerNormNoAffine(x, eps_).to(torch::kFloat32), 1 + e[1]),
                                     seq_lens, rope);
  // The residual stream stays float32: a low-precision branch output is added
  // (times its gate) in one pass; float32 keeps the official ops.
  const auto residual = [](torch::Tensor& h, const torch::Tensor& b, const torch::Tensor& gate) {
    if (FusedKernelDtype(b.scalar_type())) return GatedResidualInPlace(h, b, gate);
    return gate.defined() ? h.addcmul_(b.to(torch::kFloat32), gate) : h.add_(b.to(torch::kFloat32));
  };
  torch::Tensor h = FusedKernelDtype(y.scalar_type()) ? GatedResidual(x, y, e[2]) : at::addcmul(x, y, e[2]);
  const torch::Tensor normed =
      norm3_.is_empty() ? h
                        : at::layer_norm(h.to(torch::kFloat32), {h.size(-1)}, norm3_->weight.to(torch::kFloat32),
                                         norm3_->bias.to(torch::kFloat32), eps_)
                              .to(h.scalar_type());
  residual(h, cross_attn_(normed, context), torch::Tensor());
  const torch::Tensor f =
      ffn_(FusedKernelDtype(ffn_dtype) ? ModulatedLayerNorm(h, e[3], e[4], eps_, ffn_dtype)
                                       : at::addcmul(e[3], LayerNormNoAffine(h, eps_).to(torch::kFloat32), 1 + e[4]));
  return residual(h, f, e[5]);
}

}  // namespace videogen::models

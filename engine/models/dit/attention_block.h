// WanSelfAttention, WanT2VCrossAttention / WanI2VCrossAttention and
// WanAttentionBlock of wan/modules/model.py, with the official parameter names.
// Every projection is a quant::QuantLinear (fp8-capable on load); `init`
// kUninitialized skips the random initialisation of those layers for models
// that are loaded right away (bounded-RAM loading).
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>

#include "engine/models/dit/config.h"
#include "engine/models/dit/layers.h"
#include "engine/models/dit/rope.h"
#include "engine/models/dit/time_rows.h"
#include "engine/quant/quant_linear.h"

namespace videogen::models {

class WanSelfAttentionImpl : public torch::nn::Module {
 public:
  WanSelfAttentionImpl(int64_t dim, int64_t num_heads, bool qk_norm, double eps,
                       quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [B, L, dim]; seq_lens: int64 [B] valid tokens per sample; rope[b] for sample b -> [B, L, dim]
  // in the compute dtype (the block adds it to its float32 residual stream)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& seq_lens, const std::vector<RopeTables>& rope);
  // The dtype the projections compute in (bf16/fp16 selects fused_ops.h kernels).
  torch::ScalarType compute_dtype() const;

 private:
  // forward() for bf16/fp16 compute: x cast once, RMSNorm and RoPE in one
  // float32 pass per projection (RoPE in float32 instead of float64).
  torch::Tensor ForwardLowPrecision(const torch::Tensor& x, const torch::Tensor& seq_lens,
                                    const std::vector<RopeTables>& rope);

  int64_t num_heads_;
  quant::QuantLinear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
  WanRMSNorm norm_q_{nullptr}, norm_k_{nullptr};
};
TORCH_MODULE(WanSelfAttention);

// Text cross-attention; with `image` the I2V variant (k_img, v_img, norm_k_img):
// the first (L_ctx - text_len) context rows are image tokens, attended
// separately and added before `o`.
class WanCrossAttentionImpl : public torch::nn::Module {
 public:
  WanCrossAttentionImpl(int64_t dim, int64_t num_heads, bool qk_norm, double eps, bool image, int64_t text_len,
                        quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [B, L, dim]; context: [B, L_ctx, dim] -> [B, L, dim] in the compute dtype
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  int64_t num_heads_;
  int64_t text_len_;
  quant::QuantLinear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
  WanRMSNorm norm_q_{nullptr}, norm_k_{nullptr};
  quant::QuantLinear k_img_{nullptr}, v_img_{nullptr};
  WanRMSNorm norm_k_img_{nullptr};
};
TORCH_MODULE(WanCrossAttention);

class WanAttentionBlockImpl : public torch::nn::Module {
 public:
  explicit WanAttentionBlockImpl(const WanConfig& config, quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [B, L, dim]; e0.rows: [R, 6, dim] (float32; per sample or per distinct
  // timestep, see TimeRows); context: [B, L_ctx, dim] -> [B, L, dim]
  torch::Tensor forward(const torch::Tensor& x, const TimeRows& e0, const torch::Tensor& seq_lens,
                        const std::vector<RopeTables>& rope, const torch::Tensor& context);

  torch::Tensor modulation;  // [1, 6, dim]

 private:
  double eps_;
  WanSelfAttention self_attn_{nullptr};
  torch::nn::LayerNorm norm3_{nullptr};  // affine; null when !cross_attn_norm
  WanCrossAttention cross_attn_{nullptr};
  GeluMlp ffn_{nullptr};
};
TORCH_MODULE(WanAttentionBlock);

}  // namespace videogen::models

// The CLIP visual tower as Wan2.1 runs it (wan/modules/clip.py
// VisionTransformer.forward(x, use_31_block=True)), with the official
// parameter names under `visual.`. Only what that path reads is built: the
// blocks before the last one, not the last block, post_norm or head, so a
// checkpoint that lacks those still loads. Parameters are allocated
// uninitialised (at::empty) in the requested dtype and replaced by LoadStateDict.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "engine/models/clip/clip_config.h"

namespace videogen::models {

// nn.Linear(in, out) with uninitialised weight [out, in] and bias [out].
class ClipLinearImpl : public torch::nn::Module {
 public:
  ClipLinearImpl(int64_t in, int64_t out, const torch::TensorOptions& options);
  // x: [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
};
TORCH_MODULE(ClipLinear);

// The reference's LayerNorm subclass: nn.LayerNorm on x.float(), cast back to x's dtype.
class ClipLayerNormImpl : public torch::nn::Module {
 public:
  ClipLayerNormImpl(int64_t dim, double eps, const torch::TensorOptions& options);
  // x: [..., dim]
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  double eps_;
};
TORCH_MODULE(ClipLayerNorm);

// SelfAttention: fused to_qkv, softmax(q k^T / sqrt(d)) v, proj.
class ClipSelfAttentionImpl : public torch::nn::Module {
 public:
  ClipSelfAttentionImpl(int64_t dim, int64_t num_heads, const torch::TensorOptions& options);
  // x: [B, L, C] -> [B, L, C]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t num_heads_;
  ClipLinear to_qkv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(ClipSelfAttention);

// AttentionBlock: norm1, attn, norm2, mlp (mlp.0 Linear, activation, mlp.2 Linear).
class ClipAttentionBlockImpl : public torch::nn::Module {
 public:
  ClipAttentionBlockImpl(const ClipVisionConfig& config, const torch::TensorOptions& options);
  // x: [B, L, C] -> [B, L, C]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor Mlp(const torch::Tensor& x);

  bool post_norm_;
  ClipActivation activation_;
  ClipLayerNorm norm1_{nullptr}, norm2_{nullptr};
  ClipSelfAttention attn_{nullptr};
  ClipLinear mlp0_{nullptr}, mlp2_{nullptr};
};
TORCH_MODULE(ClipAttentionBlock);

// Thread safety: forward() reads parameters only; concurrent calls are safe
// once loading has finished. Computes in the parameters' dtype with float32
// LayerNorm and softmax statistics.
class ClipVisionTransformerImpl : public torch::nn::Module {
 public:
  ClipVisionTransformerImpl(const ClipVisionConfig& config, const torch::TensorOptions& options);
  // pixels: [N, 3, S, S] normalised, S = image_size -> [N, num_tokens, vision_dim]
  // after pre_norm and blocks [0, vision_layers - 2] (use_31_block=True).
  // A cancellation point before every block (CancelPoint("CLIP block")).
  torch::Tensor forward(const torch::Tensor& pixels);

  const ClipVisionConfig& config() const { return config_; }

 private:
  ClipVisionConfig config_;
  torch::Tensor patch_weight_, patch_bias_;  // patch_embedding.{weight, bias}; bias only without pre_norm
  torch::Tensor cls_embedding_, pos_embedding_;
  ClipLayerNorm pre_norm_{nullptr};
  torch::nn::ModuleList transformer_{nullptr};
  std::vector<ClipAttentionBlock> block_refs_;
};
TORCH_MODULE(ClipVisionTransformer);

}  // namespace videogen::models

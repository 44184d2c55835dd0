#include "engine/models/clip/vision_transformer.h"

#include <memory>

#include <ATen/ATen.h>

#include "engine/common/cancel_point.h"
#include "engine/models/common/attention.h"

namespace videogen::models {

ClipLinearImpl::ClipLinearImpl(int64_t in, int64_t out, const torch::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({out, in}, options), /*requires_grad=*/false);
  bias = register_parameter("bias", at::empty({out}, options), /*requires_grad=*/false);
}

torch::Tensor ClipLinearImpl::forward(const torch::Tensor& x) {
  // x: [..., in]
  return at::linear(x, weight, bias);
}

ClipLayerNormImpl::ClipLayerNormImpl(int64_t dim, double eps, const torch::TensorOptions& options) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}, options), /*requires_grad=*/false);
  bias = register_parameter("bias", at::zeros({dim}, options), /*requires_grad=*/false);
}

torch::Tensor ClipLayerNormImpl::forward(const torch::Tensor& x) {
  // x: [..., dim]
  return at::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, weight.to(torch::kFloat32), bias.to(torch::kFloat32),
                        eps_)
      .to(x.scalar_type());
}

ClipSelfAttentionImpl::ClipSelfAttentionImpl(int64_t dim, int64_t num_heads, const torch::TensorOptions& options)
    : num_heads_(num_heads) {
  to_qkv_ = register_module("to_qkv", ClipLinear(dim, 3 * dim, options));
  proj_ = register_module("proj", ClipLinear(dim, dim, options));
}

torch::Tensor ClipSelfAttentionImpl::forward(const torch::Tensor& x) {
  // x: [B, L, C]
  const int64_t b = x.size(0), s = x.size(1), c = x.size(2), n = num_heads_, d = c / n;
  const std::vector<torch::Tensor> qkv = to_qkv_(x).view({b, s, 3, n, d}).unbind(2);
  const torch::Tensor out = Attention(qkv[0], qkv[1], qkv[2]);  // scale 1/sqrt(d)
  return proj_(out.reshape({b, s, c}));
}

ClipAttentionBlockImpl::ClipAttentionBlockImpl(const ClipVisionConfig& c, const torch::TensorOptions& options)
    : post_norm_(c.vision_post_norm), activation_(c.activation) {
  norm1_ = register_module("norm1", ClipLayerNorm(c.vision_dim, c.norm_eps, options));
  attn_ = register_module("attn", ClipSelfAttention(c.vision_dim, c.vision_heads, options));
  norm2_ = register_module("norm2", ClipLayerNorm(c.vision_dim, c.norm_eps, options));
  // mlp = nn.Sequential(Linear "0", activation "1", Linear "2", Dropout "3").
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  mlp0_ = ClipLinear(c.vision_dim, c.mlp_dim(), options);
  mlp2_ = ClipLinear(c.mlp_dim(), c.vision_dim, options);
  mlp->register_module("0", mlp0_);
  mlp->register_module("2", mlp2_);
}

torch::Tensor ClipAttentionBlockImpl::Mlp(const torch::Tensor& x) {
  // x: [B, L, C]
  torch::Tensor h = mlp0_(x);
  h = activation_ == ClipActivation::kGelu ? at::gelu(h) : h * at::sigmoid(1.702 * h);
  return mlp2_(h);
}

torch::Tensor ClipAttentionBlockImpl::forward(const torch::Tensor& x) {
  // x: [B, L, C]
  if (post_norm_) {
    const torch::Tensor h = x + norm1_(attn_(x));
    return h + norm2_(Mlp(h));
  }
  const torch::Tensor h = x + attn_(norm1_(x));
  return h + Mlp(norm2_(h));
}

ClipVisionTransformerImpl::ClipVisionTransformerImpl(const ClipVisionConfig& c, const torch::TensorOptions& options)
    : config_(c) {
  // patch_embedding = nn.Conv2d(3, dim, patch, stride=patch, bias=not pre_norm).
  auto patch = register_module("patch_embedding", std::make_shared<torch::nn::Module>());
  patch_weight_ = patch->register_parameter(
      "weight", at::empty({c.vision_dim, 3, c.patch_size, c.patch_size}, options), /*requires_grad=*/false);
  if (!c.vision_pre_norm) {
    patch_bias_ = patch->register_parameter("bias", at::empty({c.vision_dim}, options), /*requires_grad=*/false);
  }
  if (c.has_cls_token()) {
    cls_embedding_ = register_parameter("cls_embedding", at::empty({1, 1, c.vision_dim}, options), false);
  }
  pos_embedding_ = register_parameter("pos_embedding", at::empty({1, c.num_tokens(), c.vision_dim}, options), false);
  if (c.vision_pre_norm) pre_norm_ = register_module("pre_norm", ClipLayerNorm(c.vision_dim, c.norm_eps, options));
  transformer_ = register_module("transformer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.blocks_used(); ++i) {
    block_refs_.push_back(ClipAttentionBlock(c, options));
    transformer_->push_back(block_refs_.back());
  }
}

torch::Tensor ClipVisionTransformerImpl::forward(const torch::Tensor& pixels) {
  // pixels: [N, 3, S, S]
  const int64_t n = pixels.size(0);
  torch::Tensor x = at::conv2d(pixels, patch_weight_, patch_bias_, {config_.patch_size, config_.patch_size});
  x = x.flatten(2).permute({0, 2, 1});  // [N, grid^2, C]
  if (cls_embedding_.defined()) x = at::cat({cls_embedding_.expand({n, -1, -1}), x}, 1);
  x = x + pos_embedding_;
  if (pre_norm_) x = pre_norm_(x);
  for (ClipAttentionBlock& block : block_refs_) {
    CancelPoint("CLIP block");
    x = block(x);
  }
  return x;
}

}  // namespace videogen::models

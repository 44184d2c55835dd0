// Layers of the umT5 encoder, named as in wan/modules/t5.py so that the
// official checkpoint keys map 1:1. Parameters are allocated uninitialised
// (at::empty) in the requested dtype: they exist to be replaced by
// LoadStateDict, and the XXL encoder (5.7B parameters) must never be
// materialised twice.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "engine/models/t5/t5_config.h"

namespace videogen::models {

// nn.Linear(in, out, bias=False) with an uninitialised `weight` [out, in].
class T5LinearImpl : public torch::nn::Module {
 public:
  T5LinearImpl(int64_t in, int64_t out, const torch::TensorOptions& options);
  // x: [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
};
TORCH_MODULE(T5Linear);

// nn.Embedding(num, dim) with an uninitialised `weight` [num, dim].
class T5EmbeddingImpl : public torch::nn::Module {
 public:
  T5EmbeddingImpl(int64_t num, int64_t dim, const torch::TensorOptions& options);
  // ids: [...] int64 -> [..., dim]
  torch::Tensor forward(const torch::Tensor& ids);
  torch::Tensor weight;
};
TORCH_MODULE(T5Embedding);

// T5LayerNorm: RMS norm without mean subtraction, x * rsqrt(mean(x^2) + eps)
// in float32, cast to the weight's dtype when that is half/bfloat16, times weight.
class T5LayerNormImpl : public torch::nn::Module {
 public:
  T5LayerNormImpl(int64_t dim, double eps, const torch::TensorOptions& options);
  // x: [..., dim]
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(T5LayerNorm);

// T5 relative position bucket of `rel_pos` = key_pos - query_pos (int64),
// exactly as T5RelativeEmbedding._relative_position_bucket: bidirectional uses
// num_buckets/2 buckets per direction (+num_buckets/2 when rel_pos > 0); within
// a direction, distances below half the buckets are exact, larger ones
// log-spaced up to max_dist (float32 log, truncated) and clamped to the last bucket.
torch::Tensor RelativePositionBucket(const torch::Tensor& rel_pos, int64_t num_buckets, bool bidirectional,
                                     int64_t max_dist = 128);

// T5RelativeEmbedding: `embedding` [num_buckets, num_heads].
class T5RelativeEmbeddingImpl : public torch::nn::Module {
 public:
  T5RelativeEmbeddingImpl(int64_t num_buckets, int64_t num_heads, bool bidirectional, int64_t max_dist,
                          const torch::TensorOptions& options);
  // -> [1, num_heads, lq, lk] bias in the embedding's dtype.
  torch::Tensor forward(int64_t lq, int64_t lk);

 private:
  int64_t num_buckets_, max_dist_;
  bool bidirectional_;
  T5Embedding embedding_{nullptr};
};
TORCH_MODULE(T5RelativeEmbedding);

// T5Attention (self-attention only): q, k, v, o without bias; NO 1/sqrt(d)
// scaling; scores + position bias, keys with mask == 0 get finfo(dtype).min;
// softmax in float32. The [B, H, L, L] scores are materialised (T5 sequences
// are at most a few hundred tokens).
class T5AttentionImpl : public torch::nn::Module {
 public:
  T5AttentionImpl(const T5Config& config, const torch::TensorOptions& options);
  // x: [B, L, dim]; mask: [B, L] (0 = padded key) or undefined;
  // pos_bias: [1, H, L, L] or undefined -> [B, L, dim]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& pos_bias);

 private:
  int64_t num_heads_, head_dim_;
  T5Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
};
TORCH_MODULE(T5Attention);

// T5FeedForward: fc2(fc1(x) * gelu_tanh(gate(x))), children fc1, gate.0, fc2.
class T5FeedForwardImpl : public torch::nn::Module {
 public:
  T5FeedForwardImpl(int64_t dim, int64_t dim_ffn, const torch::TensorOptions& options);
  // x: [B, L, dim] -> [B, L, dim]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  T5Linear gate0_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(T5FeedForward);

// T5SelfAttention (one encoder block): norm1, attn, norm2, ffn and, unless
// shared_pos, its own pos_embedding.
class T5SelfAttentionImpl : public torch::nn::Module {
 public:
  T5SelfAttentionImpl(const T5Config& config, const torch::TensorOptions& options);
  // x: [B, L, dim]; mask: [B, L] or undefined; shared_pos_bias: [1, H, L, L]
  // (used only when config.shared_pos) -> [B, L, dim]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& shared_pos_bias);

 private:
  T5LayerNorm norm1_{nullptr}, norm2_{nullptr};
  T5Attention attn_{nullptr};
  T5FeedForward ffn_{nullptr};
  T5RelativeEmbedding pos_embedding_{nullptr};
};
TORCH_MODULE(T5SelfAttention);

// GELU in the reference's explicit tanh form:
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), evaluated op by op in x's
// dtype (each op's result rounded to it, as the reference's ops), written over
// x, which is returned; one temporary of x's size.
torch::Tensor& T5GeluInPlace(torch::Tensor& x);

}  // namespace videogen::models

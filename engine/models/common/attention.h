// Scaled dot-product attention for every model of the family. The
// implementation is chosen in one place (attention.cc): blocked online-softmax
// ("flash-style") on LibTorch 1.13, so no [Lq, Lk] score matrix is ever
// materialised for long sequences.
#pragma once

#include <optional>

#include <torch/types.h>

namespace videogen::models {

struct AttentionOptions {
  // Softmax scale; default 1/sqrt(head_dim).
  std::optional<double> scale;
  // Per-batch number of valid keys, int64 [B]; keys at index >= key_lens[b]
  // are masked. Absent: all keys valid.
  std::optional<torch::Tensor> key_lens;
};

// q: [B, Lq, H, D], k/v: [B, Lk, H, D] -> [B, Lq, H, D], computed in the
// inputs' dtype with float32 softmax statistics.
torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const AttentionOptions& options = {});

// Blocked attention with online softmax over key blocks: memory O(H * q_block
// * k_block) regardless of sequence length; statistics in float32. Keys beyond
// key_lens[b] are never read. Used by Attention() where the LibTorch version
// has no fused kernel; public for tests and benchmarks.
struct AttentionBlocks {
  int64_t query_block = 256;
  int64_t key_block = 2048;
};
torch::Tensor BlockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const AttentionOptions& options, const AttentionBlocks& blocks = {});

// The same, materialising the scores: the reference for tests.
torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const AttentionOptions& options = {});

}  // namespace videogen::models

// Scaled dot-product attention for every model of the family. The kernel is
// chosen per LibTorch version, device and dtype in one version-specific file
// (ChosenAttentionKernel): blocked online-softmax ("flash-style", never an
// [Lq, Lk] score matrix) on LibTorch 1.13, and LibTorch's fused
// scaled_dot_product_attention where LibTorch >= 2.0 has it and it measured
// faster (see attention_kernel_sdpa.cc).
#pragma once

#include <optional>

#include <torch/types.h>

namespace videogen::models {

// Dtype of the QK^T GEMM for bfloat16 inputs (float32 inputs always use float32).
enum class ScorePrecision {
  // QK^T in float32: scores exact to float32; ~half the speed of kInputDtype
  // where bf16 GEMMs are fast (AMX). Error vs float32 attention is that of
  // rounding the probabilities and the output to bf16.
  kFloat32,
  // QK^T as a bf16 GEMM, whose output (the scores) is rounded to bf16: max
  // error ~1.2e-2 of max |output| on unit-variance inputs (kFloat32: ~5e-3).
  kInputDtype,
};

struct AttentionOptions {
  // Softmax scale; default 1/sqrt(head_dim).
  std::optional<double> scale;
  // Per-batch number of valid keys, int64 [B]; keys at index >= key_lens[b]
  // are masked. Absent: all keys valid.
  std::optional<torch::Tensor> key_lens;
  // Default: float32 scores.
  ScorePrecision score_precision = ScorePrecision::kFloat32;
};

// q: [B, Lq, H, D], k/v: [B, Lk, H, D] -> [B, Lq, H, D] in q's dtype, with
// float32 softmax statistics (max, exp, sum) and accumulator. On the CPU
// float32 and float16 inputs are computed in float32; bfloat16 inputs use a
// bf16 PV GEMM (and a bf16 QK^T GEMM per options.score_precision; with float32
// scores both GEMMs read bf16 and write float32 where Bf16FloatGemm exists). A sample
// with key_lens[b] == 0 yields NaN rows, as softmax over no keys does.
torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const AttentionOptions& options = {});

// Blocked attention with online softmax over key blocks ("flash-style"): one
// task per (batch, head, query block), run in parallel over LibTorch's
// intra-op threads (at::parallel_for; the GEMMs inside run single-threaded);
// extra memory O(threads * query_block * key_block) plus a [B, H, L, D] copy
// of q, k, v, regardless of sequence length. Keys beyond key_lens[b] are never
// read. Used by Attention() where the LibTorch version has no fused kernel;
// public for tests and benchmarks. Thread-safe (no shared state).
struct AttentionBlocks {
  // Chosen with bench_dit_block --parts gemm,attention at 4096 and 8192
  // tokens, head_dim 128, among 64..256 x 256..2048 (a 1 MiB float32 score
  // tile); under machine load the differences between 128..256 x 512..2048
  // were within the run-to-run noise.
  int64_t query_block = 256;
  int64_t key_block = 1024;
  // bf16 inputs with float32 scores: run QK^T and PV as bf16 x bf16 -> float32
  // GEMMs (Bf16FloatGemm) where the process has one, instead of converting q
  // and k to float32. Same products (bf16 products are exact in float32), the
  // scores and accumulator stay float32. false: always the conversion path.
  bool mixed_gemm = true;
  // float32 (and float16, computed in float32) inputs on the CPU: both GEMMs
  // as FloatGemm (oneDNN's sgemm) where the process has it, instead of
  // LibTorch's addmm (BLAS).
  bool float_gemm = true;
  // float32 scores on the CPU (bf16 inputs with float32 scores, and float32
  // inputs): the softmax step of each tile as one pass per row
  // (OnlineSoftmaxBlockBf16 / OnlineSoftmaxBlockInPlace) instead of LibTorch ops.
  bool fused_softmax = true;
};
torch::Tensor BlockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const AttentionOptions& options, const AttentionBlocks& blocks = {});

// The kernels Attention() chooses between.
enum class AttentionKernel {
  kBlocked,    // BlockedAttention
  kFusedSdpa,  // FusedSdpaAttention (LibTorch >= 2.0)
};

// The kernel Attention() runs for inputs of `dtype` on `device`. Decided in the
// LibTorch-version-specific file chosen by CMake (attention_kernel_sdpa.cc for
// LibTorch >= 2.0, attention_kernel_blocked.cc for 1.13). Thread-safe.
AttentionKernel ChosenAttentionKernel(c10::DeviceType device, at::ScalarType dtype);

// True when this LibTorch has at::scaled_dot_product_attention (>= 2.0).
bool HasFusedSdpa();

// LibTorch's fused at::scaled_dot_product_attention with Attention()'s
// contract (key_lens as a boolean key mask; score_precision is ignored: the
// kernel picks its own accumulation). Precondition: HasFusedSdpa(); otherwise
// throws c10::Error. Public for tests and benchmarks.
torch::Tensor FusedSdpaAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const AttentionOptions& options = {});

// Boolean key mask [B, 1, 1, lk] on `device`: true where key j < key_lens[b].
torch::Tensor ValidKeyMask(const torch::Tensor& key_lens, int64_t lk, torch::Device device);

// The same, materialising the scores: the reference for tests.
torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const AttentionOptions& options = {});

}  // namespace videogen::models

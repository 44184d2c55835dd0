// LibTorch >= 2.0: at::scaled_dot_product_attention exists. On CUDA it is
// always used (flash / memory-efficient kernels). On the CPU the choice per
// dtype follows bench_attention (blocked vs SDPA interleaved in one run,
// LibTorch 2.6, T2V-1.3B geometry, 1,024-8,192 tokens, 2-core Zen 5 VM):
// float32 SDPA was 1.22-1.69x faster than the blocked kernel; bfloat16 SDPA
// ran at ~2.3 GFLOP/s, ~30x slower than the blocked kernel's bf16 GEMMs.
#include <ATen/ATen.h>

#include "engine/models/common/attention.h"

namespace videogen::models {

AttentionKernel ChosenAttentionKernel(c10::DeviceType device, at::ScalarType dtype) {
  if (device != c10::DeviceType::CPU) return AttentionKernel::kFusedSdpa;
  return dtype == at::kFloat ? AttentionKernel::kFusedSdpa : AttentionKernel::kBlocked;
}

bool HasFusedSdpa() { return true; }

torch::Tensor FusedSdpaAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const AttentionOptions& options) {
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  std::optional<torch::Tensor> mask;
  if (options.key_lens) mask = ValidKeyMask(*options.key_lens, k.size(1), q.device());
  return at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), mask,
                                          /*dropout_p=*/0.0, /*is_causal=*/false, options.scale)
      .transpose(1, 2);
}

}  // namespace videogen::models

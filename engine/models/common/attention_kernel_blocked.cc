// LibTorch 1.13: no fused scaled_dot_product_attention; Attention() always runs
// BlockedAttention.
#include <c10/util/Exception.h>

#include "engine/models/common/attention.h"

namespace videogen::models {

AttentionKernel ChosenAttentionKernel(c10::DeviceType, at::ScalarType) { return AttentionKernel::kBlocked; }

bool HasFusedSdpa() { return false; }

torch::Tensor FusedSdpaAttention(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                 const AttentionOptions&) {
  TORCH_CHECK(false, "FusedSdpaAttention: this LibTorch has no scaled_dot_product_attention (needs >= 2.0)");
}

}  // namespace videogen::models

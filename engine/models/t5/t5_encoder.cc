#include "engine/models/t5/t5_encoder.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/cancel_point.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::models {

T5EncoderImpl::T5EncoderImpl(const T5Config& c, const torch::TensorOptions& options) : config_(c) {
  token_embedding_ = register_module("token_embedding", T5Embedding(c.vocab, c.dim, options));
  if (c.shared_pos) {
    pos_embedding_ = register_module(
        "pos_embedding", T5RelativeEmbedding(c.num_buckets, c.num_heads, /*bidirectional=*/true, c.max_dist, options));
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) {
    block_refs_.push_back(T5SelfAttention(c, options));
    blocks_->push_back(block_refs_.back());
  }
  norm_ = register_module("norm", T5LayerNorm(c.dim, c.eps, options));
}

torch::Tensor T5EncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  // ids: [B, L]; mask: [B, L]
  torch::Tensor x = token_embedding_(ids);
  torch::Tensor shared_bias;
  if (pos_embedding_) shared_bias = pos_embedding_(x.size(1), x.size(1));
  for (T5SelfAttention& block : block_refs_) {
    CancelPoint("T5 block");
    x = block(x, mask, shared_bias);
  }
  return norm_(x);
}

absl::StatusOr<T5Encoder> LoadT5Encoder(const T5Config& config, const io::TensorSource& source,
                                        const LoadOptions& options) {
  if (options.dtype != torch::kFloat32 && options.dtype != torch::kBFloat16 && options.dtype != torch::kHalf) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype: the T5 encoder runs in float32, bfloat16 or float16, not ", c10::toString(options.dtype)));
  }
  if (options.dtype == torch::kHalf && options.device.is_cpu()) {
    return absl::InvalidArgumentError("dtype: float16 needs a CUDA device (LibTorch has no float16 GEMM/conv on CPU)");
  }
  ASSIGN_OR_RETURN(T5Encoder encoder, TorchCall("building the T5 encoder", [&] {
                     return T5Encoder(config, torch::TensorOptions().dtype(options.dtype).device(options.device));
                   }));
  RETURN_IF_ERROR(LoadStateDict(*encoder, source, options));
  encoder->eval();
  return encoder;
}

std::vector<torch::Tensor> TrimToMask(const torch::Tensor& hidden, const torch::Tensor& mask) {
  const torch::Tensor lens = mask.gt(0).sum(1).to(torch::kCPU, torch::kLong);
  std::vector<torch::Tensor> out;
  out.reserve(hidden.size(0));
  for (int64_t i = 0; i < hidden.size(0); ++i) out.push_back(hidden[i].narrow(0, 0, lens[i].item<int64_t>()));
  return out;
}

}  // namespace videogen::models

// T5Encoder: the umT5 encoder of wan/modules/t5.py (token_embedding, blocks,
// final norm), with the official parameter names, and its loader.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/t5/t5_layers.h"

namespace videogen::models {

// Thread safety: forward() reads parameters only; concurrent calls are safe
// once loading has finished. Computes in the parameters' dtype (float32,
// bfloat16 or float16) with float32 norms and softmax.
class T5EncoderImpl : public torch::nn::Module {
 public:
  // Parameters are allocated uninitialised with `options` (dtype, device);
  // load them with LoadT5Encoder / LoadStateDict before calling forward.
  T5EncoderImpl(const T5Config& config, const torch::TensorOptions& options);
  // ids: [B, L] int64; mask: [B, L] integer (1 = token, 0 = padding) or
  // undefined (all valid) -> hidden states [B, L, dim] for every position
  // (padded rows included), in the parameters' dtype. A cancellation point
  // before every block (CancelPoint("T5 block"), cancel_point.h).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);

  const T5Config& config() const { return config_; }

 private:
  T5Config config_;
  T5Embedding token_embedding_{nullptr};
  T5RelativeEmbedding pos_embedding_{nullptr};  // only when shared_pos
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<T5SelfAttention> block_refs_;
  T5LayerNorm norm_{nullptr};
};
TORCH_MODULE(T5Encoder);

// Builds a T5Encoder for `config` and loads it from `source` with `options`
// (prefix, dtype, device...). Errors: InvalidArgument naming "dtype" for a
// dtype other than float32/bfloat16/float16 or float16 on the CPU, or from
// LoadStateDict (missing / unexpected keys named, shape mismatches); DataLoss
// from reading; ResourceExhausted when memory runs out.
absl::StatusOr<T5Encoder> LoadT5Encoder(const T5Config& config, const io::TensorSource& source,
                                        const LoadOptions& options = {});

// The official T5EncoderModel.__call__ trimming: hidden[i, :sum(mask[i] > 0)]
// for every row i. hidden: [B, L, dim]; mask: [B, L] -> B tensors [len_i, dim]
// (views of `hidden`).
std::vector<torch::Tensor> TrimToMask(const torch::Tensor& hidden, const torch::Tensor& mask);

}  // namespace videogen::models

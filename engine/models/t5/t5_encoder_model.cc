#include "engine/models/t5/t5_encoder_model.h"

#include <algorithm>
#include <utility>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/models/t5/t5_streamed_encoder.h"

namespace videogen::models {
namespace {

// 1 + the last column of `mask` [B, L] holding a real token in any row (at
// least 1, so an all-padding batch keeps its first column).
int64_t RealColumns(const torch::Tensor& mask) {
  const torch::Tensor any = mask.gt(0).any(0).to(torch::kCPU);
  const torch::Tensor cols = any.nonzero();
  return cols.numel() == 0 ? std::min<int64_t>(1, mask.size(1)) : cols.max().item<int64_t>() + 1;
}

}  // namespace

T5EncoderModel::T5EncoderModel(const T5Config& config, T5Encoder encoder,
                               std::unique_ptr<text::UmT5Tokenizer> tokenizer, torch::Device device,
                               std::shared_ptr<const io::TensorSource> streamed_source, LoadOptions load,
                               std::function<void(int64_t)> on_streamed_bytes)
    : config_(config),
      encoder_(std::move(encoder)),
      tokenizer_(std::move(tokenizer)),
      device_(device),
      streamed_source_(std::move(streamed_source)),
      load_(std::move(load)),
      on_streamed_bytes_(std::move(on_streamed_bytes)) {}

absl::StatusOr<std::unique_ptr<T5EncoderModel>> T5EncoderModel::Create(const T5EncoderModelOptions& options) {
  if (options.tokenizer_path.empty()) return absl::InvalidArgumentError("tokenizer_path: required");
  if (options.text_len < 1) {
    return absl::InvalidArgumentError(absl::StrCat("text_len: must be >= 1, got ", options.text_len));
  }
  if (options.source == nullptr && options.checkpoint_path.empty() && options.streamed_source == nullptr) {
    return absl::InvalidArgumentError("checkpoint_path: required when no source is given");
  }
  text::TokenizerOptions tok;
  tok.seq_len = options.text_len;
  tok.clean = text::TextClean::kWhitespace;
  tok.spm_shim_path = options.spm_shim_path;
  ASSIGN_OR_RETURN(std::unique_ptr<text::UmT5Tokenizer> tokenizer,
                   text::UmT5Tokenizer::Create(options.tokenizer_path, tok));

  LoadOptions load;
  load.prefix = options.prefix;
  load.ignore_outside_prefix = !options.prefix.empty();
  load.dtype = options.dtype;
  load.device = options.device;
  if (options.streamed_source != nullptr) {
    if (options.dtype != torch::kFloat32 && options.dtype != torch::kBFloat16 &&
        !(options.dtype == torch::kHalf && options.device.is_cuda())) {
      return absl::InvalidArgumentError("dtype: the T5 encoder runs in float32 or bfloat16 (float16 on CUDA only)");
    }
    RETURN_IF_ERROR(CheckT5Streamable(options.config, *options.streamed_source, load));
    return std::unique_ptr<T5EncoderModel>(new T5EncoderModel(options.config, T5Encoder(nullptr), std::move(tokenizer),
                                                              options.device, options.streamed_source, load,
                                                              options.on_streamed_bytes));
  }
  std::unique_ptr<io::TensorSource> opened;
  const io::TensorSource* source = options.source;
  if (source == nullptr) {
    ASSIGN_OR_RETURN(opened, io::OpenCheckpoint(options.checkpoint_path));
    source = opened.get();
  }
  ASSIGN_OR_RETURN(T5Encoder encoder, LoadT5Encoder(options.config, *source, load));
  return std::unique_ptr<T5EncoderModel>(
      new T5EncoderModel(options.config, std::move(encoder), std::move(tokenizer), options.device, nullptr, load, {}));
}

absl::StatusOr<std::vector<torch::Tensor>> T5EncoderModel::Encode(const std::vector<std::string>& texts) const {
  ASSIGN_OR_RETURN(text::TokenizedBatch batch, tokenizer_->Encode(texts));
  return EncodeIds(batch.ids, batch.mask);
}

absl::StatusOr<std::vector<torch::Tensor>> T5EncoderModel::EncodeIds(const torch::Tensor& ids,
                                                                     const torch::Tensor& mask) const {
  if (!ids.defined() || ids.dim() != 2 || ids.scalar_type() != torch::kLong) {
    return absl::InvalidArgumentError("ids: must be an int64 tensor [B, L]");
  }
  if (!mask.defined() || mask.sizes() != ids.sizes()) {
    return absl::InvalidArgumentError("mask: must have the shape of ids");
  }
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= config_.vocab) {
      return absl::InvalidArgumentError(
          absl::StrCat("ids: token ids must lie in [0, ", config_.vocab, "), got [", lo, ", ", hi, "]"));
    }
  }
  // Only the columns up to the last real token of the batch run: padded keys
  // get the dtype's lowest bias (zero attention weight), so no real token's
  // output depends on a padded position, and the relative position bias of
  // the kept block is the same block of the full one.
  ASSIGN_OR_RETURN(const int64_t real_len, TorchCall("T5 mask", [&] { return RealColumns(mask); }));
  const torch::Tensor kept_ids = ids.narrow(1, 0, real_len);
  const torch::Tensor kept_mask = mask.narrow(1, 0, real_len);
  if (streamed()) {
    c10::InferenceMode inference;
    const torch::Tensor m = kept_mask.to(device_);
    ASSIGN_OR_RETURN(const torch::Tensor hidden,
                     StreamT5Encoder(config_, *streamed_source_, load_, kept_ids, m, on_streamed_bytes_));
    return TorchCall("T5 encoder", [&] { return TrimToMask(hidden, m); });
  }
  return TorchCall("T5 encoder", [&] {
    c10::InferenceMode inference;
    const torch::Tensor m = kept_mask.to(device_);
    const torch::Tensor hidden = encoder_.ptr()->forward(kept_ids.to(device_), m);
    return TrimToMask(hidden, m);
  });
}

}  // namespace videogen::models

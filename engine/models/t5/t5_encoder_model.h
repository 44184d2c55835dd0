// T5EncoderModel: the Wan2.1 text encoder as the pipelines use it
// (wan/modules/t5.py T5EncoderModel): umT5 tokenizer (seq_len = text_len,
// clean='whitespace') + T5Encoder, returning each prompt's context trimmed to
// its token count.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/text/umt5_tokenizer.h"

namespace videogen::models {

struct T5EncoderModelOptions {
  // Encoder weights (e.g. models_t5_umt5-xxl-enc-bf16.pth, or a safetensors
  // file); read when `source` is null.
  std::string checkpoint_path;
  // Already opened weights instead of `checkpoint_path`. Not owned; only read
  // during Create.
  const io::TensorSource* source = nullptr;
  // Prepended to every parameter name when looking it up ("" for the official file).
  std::string prefix;
  // SentencePiece model of google/umt5-xxl (spiece.model). Required.
  std::string tokenizer_path;
  // Path of the SentencePiece shim; "" = the default (see TokenizerOptions).
  std::string spm_shim_path;
  T5Config config = T5Config::UmT5Xxl();
  // Parameter and compute dtype: float32, bfloat16 (the reference's default
  // and the official checkpoint's dtype) or float16. Norms and softmax run in
  // float32 either way. float16 needs a CUDA device.
  torch::ScalarType dtype = torch::kBFloat16;
  torch::Device device = torch::kCPU;
  // Tokenizer length (the reference's text_len; 512 in every Wan config).
  int text_len = 512;
  // When set, nothing is loaded: the model keeps this source and every
  // encoding streams the encoder from it block by block (t5_streamed_encoder.h),
  // with bit-identical outputs; `source` and `checkpoint_path` are ignored.
  std::shared_ptr<const io::TensorSource> streamed_source;
  // Streaming only: told +bytes / -bytes as each block's weights are loaded
  // and freed (the residency account); may be empty. Must be thread-safe.
  std::function<void(int64_t)> on_streamed_bytes;
};

// Thread safety: immutable after Create; Encode/EncodeIds may be called
// concurrently (each call allocates its own activations).
class T5EncoderModel {
 public:
  // Errors: InvalidArgument naming the field (empty tokenizer_path, text_len
  // < 1, bad dtype, missing/unexpected weight names); NotFound for missing
  // files; FailedPrecondition when the SentencePiece shim cannot be loaded;
  // DataLoss for corrupt weights; ResourceExhausted when memory runs out.
  static absl::StatusOr<std::unique_ptr<T5EncoderModel>> Create(const T5EncoderModelOptions& options);

  // One context per text: [len_i, dim] in the options' dtype on the options'
  // device, len_i = the text's token count including </s> (<= text_len).
  // Errors: InvalidArgument naming the text index for invalid UTF-8;
  // ResourceExhausted on out-of-memory; Internal for other LibTorch errors.
  absl::StatusOr<std::vector<torch::Tensor>> Encode(const std::vector<std::string>& texts) const;

  // The same from tokenizer output: ids, mask int64 [B, L] (any device).
  // Runs only the columns up to the batch's last real token (the outputs of
  // real tokens do not depend on padding: the mask keeps it out of attention).
  // InvalidArgument naming "ids"/"mask" for bad shapes or out-of-vocabulary ids.
  absl::StatusOr<std::vector<torch::Tensor>> EncodeIds(const torch::Tensor& ids, const torch::Tensor& mask) const;

  const T5Config& config() const { return config_; }
  // Whether the encoder is streamed from its checkpoint (nothing resident).
  bool streamed() const { return streamed_source_ != nullptr; }
  // The encoder module (for resident-memory accounting). Precondition: !streamed().
  const torch::nn::Module& module() const { return *encoder_; }
  const text::UmT5Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  T5EncoderModel(const T5Config& config, T5Encoder encoder, std::unique_ptr<text::UmT5Tokenizer> tokenizer,
                 torch::Device device, std::shared_ptr<const io::TensorSource> streamed_source, LoadOptions load,
                 std::function<void(int64_t)> on_streamed_bytes);

  // Constant after construction.
  const T5Config config_;
  const T5Encoder encoder_;  // shared impl; forward() only reads it
  const std::unique_ptr<text::UmT5Tokenizer> tokenizer_;
  const torch::Device device_;
  // Streaming only: the checkpoint and how blocks are loaded from it.
  const std::shared_ptr<const io::TensorSource> streamed_source_;
  const LoadOptions load_;
  const std::function<void(int64_t)> on_streamed_bytes_;
};

}  // namespace videogen::models

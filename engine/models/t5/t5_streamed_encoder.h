// The umT5 encoder run straight from its checkpoint, block by block: nothing
// of it stays resident between encodings. Each block is loaded from the
// (mapped) source into its compute dtype, run, and freed, and the source
// pages it was read from are released; the token embedding is gathered row by
// row from the mapped table. The peak is one block plus the activations,
// instead of the whole encoder (10.6 GiB for umT5-XXL in bf16). Outputs are
// bit-identical to T5Encoder's loaded from the same source in the same dtype.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/t5/t5_config.h"

namespace videogen::models {

// Checks that `source` holds every tensor a T5Encoder of `config` reads,
// with its shape (under `options.prefix`), without reading data.
// InvalidArgument naming the first missing or mismatched tensor.
absl::Status CheckT5Streamable(const T5Config& config, const io::TensorSource& source, const LoadOptions& options);

// ids: [B, L] int64, mask: [B, L] (or undefined) -> hidden states [B, L, dim]
// in `options.dtype` on `options.device`, as T5EncoderImpl::forward.
// Thread-safe for concurrent calls on one source (each loads its own blocks).
// Errors: LoadStateDict's (missing names, shapes, DataLoss), ResourceExhausted
// on out-of-memory, Internal for other LibTorch errors; Cancelled /
// DeadlineExceeded from the calling thread's CancelScope, checked before every
// block is loaded (cancel_point.h).
// `on_resident` (may be empty) is called with +bytes when a block's weights
// are loaded and -bytes when they are freed (the residency account).
absl::StatusOr<torch::Tensor> StreamT5Encoder(const T5Config& config, const io::TensorSource& source,
                                              const LoadOptions& options, const torch::Tensor& ids,
                                              const torch::Tensor& mask,
                                              const std::function<void(int64_t)>& on_resident = {});

}  // namespace videogen::models

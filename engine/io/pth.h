// PyTorch `torch.save` zip checkpoints (state_dict OrderedDicts, as the official
// Wan2.1 T5/CLIP/VAE `.pth` files are). Read natively over an mmap: storages
// become zero-copy views (stored records are 64-byte aligned), shared storages
// and views (offset/stride) are honoured; nothing is copied into anonymous memory.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::io {

// NotFound for a missing file; DataLoss naming the file (and record) for a
// corrupt or truncated one; InvalidArgument when the pickle is not a mapping of
// names to tensors (nested dicts are flattened with '.').
absl::StatusOr<std::unique_ptr<TensorSource>> OpenPth(const std::string& path);

}  // namespace videogen::io

// Writes state dicts in the torch.save zip format (an OrderedDict of tensors,
// pickle protocol 2, one storage record per tensor), as the official Wan2.1
// .pth checkpoints are, so that Python's torch.load and io::OpenPth read them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/io/safetensors.h"
#include "engine/synth/synthetic_checkpoint.h"

namespace videogen::synth {

// Tensors are written in the given order with their dtype (float32, float16,
// bfloat16, float64, int64, int32, uint8, int8, bool) and shape, each as a
// contiguous storage of its own. InvalidArgument naming the tensor for an
// unsupported dtype or a duplicate name; Internal when the file cannot be written.
absl::Status WritePth(const std::string& path, const std::vector<io::NamedTensor>& tensors);

// The same format with every storage left as a file hole (a sparse file
// whose data reads as zeros; each record's CRC is that of its zeros), for
// loadable synthetic checkpoints of official sizes that take no disk space.
// Errors as WritePth.
absl::Status WriteSparsePth(const std::string& path, const std::vector<SyntheticTensor>& tensors);

}  // namespace videogen::synth

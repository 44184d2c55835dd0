// PyTorch `torch.save` zip checkpoints (state_dict OrderedDicts, as the official
// Wan2.1 T5/CLIP/VAE `.pth` files are), read natively over an mmap.
//
// The zip is read with caffe2's PyTorchStreamReader over the mapping; the
// pickle (`<archive>/data.pkl`) is interpreted by a small, restricted pickle
// machine of our own (engine/io/unpickler.h): LibTorch 1.13's
// torch::jit::Unpickler turns `collections.OrderedDict` into None and so
// cannot rebuild a state_dict. Only data is interpreted, never code: the
// recognised globals are collections.OrderedDict, torch._utils._rebuild_tensor(_v2),
// torch._utils._rebuild_parameter(_with_state), torch._tensor._rebuild_from_type_v2
// and the torch.<T>Storage types; any other global yields an opaque value.
// Record sizes come from the zip's central directory (engine/io/zip_directory.h).
//
// Storages stay in the file: each tensor is a view into its (uncompressed,
// 64-byte aligned) record, so tensors sharing a storage share memory and nothing
// is copied into anonymous memory at open or read.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::io {

// Opens `path` and indexes every tensor of its pickled mapping. Nested
// mappings are flattened with '.' ({"a": {"b": t}} -> "a.b").
//
// Read(name) returns a CPU tensor with the stored dtype, shape and values:
// a zero-copy view into the mapping (keeping it alive) when the stored view is
// contiguous, a contiguous copy when the stored strides are not (or the record
// is misaligned). Release(name) drops the pages under that tensor's bytes.
//
// Errors: NotFound for a missing file; DataLoss naming the file (and the
// record when known) for a corrupt or truncated zip, pickle or record;
// InvalidArgument naming the key when the pickle is not a (nested) mapping of
// string names to tensors, for legacy (pre-1.6, non-zip) torch.save files, and
// for compressed storage records (which cannot be mapped).
absl::StatusOr<std::unique_ptr<TensorSource>> OpenPth(const std::string& path);

}  // namespace videogen::io

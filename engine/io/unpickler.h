// A small, restricted pickle machine for the `data.pkl` record of torch.save
// checkpoints. Internal to engine/io (the .pth reader): LibTorch 1.13's
// torch::jit::Unpickler turns `collections.OrderedDict` into None and so
// cannot rebuild a state_dict.
//
// Only data is interpreted, never code. The recognised globals are
// collections.OrderedDict, torch._utils._rebuild_tensor(_v2),
// torch._utils._rebuild_parameter(_with_state), torch._tensor._rebuild_from_type_v2
// and the torch.<T>Storage types; calling any other global, or NEWOBJ,
// yields an opaque value. BUILD state is ignored. Storages are not read:
// a tensor value names its storage record (key), dtype and element count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::io {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

// One unpickled value. Values may be shared (memo, DUP), never cyclic.
struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kStorageType, kStorage, kTensor, kOpaque };
  explicit PyValue(Kind k) : kind(k) {}
  Kind kind;
  int64_t i = 0;                            // bool, int; storage: numel; tensor: storage offset
  double f = 0;                             // float
  std::string s;                            // string; global: module; storage: key; opaque: what it was
  std::string s2;                           // global: name
  DType dtype = DType::kU8;                 // storage type, storage
  std::vector<PyRef> items;                 // tuple, list; tensor: {storage}
  std::vector<std::pair<PyRef, PyRef>> dict;  // insertion order
  std::vector<int64_t> size, stride;        // tensor
};

// A short description of `v`'s kind for error messages ("dict", "tensor",
// "global torch.Foo", what an opaque value was).
std::string KindName(const PyValue& v);

// Interprets the subset of pickle protocols 2-4 that torch.save emits and
// returns the top-level value (never null). Reads only [data, data + size).
// Error messages name neither the file nor the record (the caller adds them):
// DataLoss for a corrupt or truncated pickle, an unsupported opcode or a
// malformed tensor rebuild; InvalidArgument when the pickle is well-formed but
// cannot be a tensor mapping (SETITEM/APPEND on the wrong kind, a storage of
// an unsupported type, a malformed OrderedDict).
absl::StatusOr<PyRef> Unpickle(const uint8_t* data, size_t size);

}  // namespace videogen::io

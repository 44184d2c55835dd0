#include "engine/io/tensor_source.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/io/pth.h"
#include "engine/io/safetensors.h"

namespace videogen::io {

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF64: return "F64";
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF8E4M3: return "F8_E4M3";
    case DType::kF8E5M2: return "F8_E5M2";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kBool: return "BOOL";
  }
  return "?";
}

int64_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF64: case DType::kI64: return 8;
    case DType::kF32: case DType::kI32: return 4;
    case DType::kF16: case DType::kBF16: case DType::kI16: return 2;
    default: return 1;
  }
}

torch::ScalarType TorchScalarType(DType dtype) {
  switch (dtype) {
    case DType::kF64: return torch::kFloat64;
    case DType::kF32: return torch::kFloat32;
    case DType::kF16: return torch::kFloat16;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kI64: return torch::kInt64;
    case DType::kI32: return torch::kInt32;
    case DType::kI16: return torch::kInt16;
    case DType::kI8: return torch::kInt8;
    case DType::kBool: return torch::kBool;
    default: return torch::kUInt8;
  }
}

bool IsFloatingPoint(DType dtype) {
  switch (dtype) {
    case DType::kF64: case DType::kF32: case DType::kF16: case DType::kBF16:
    case DType::kF8E4M3: case DType::kF8E5M2: return true;
    default: return false;
  }
}

const TensorInfo* TensorSource::Find(std::string_view name) const {
  const auto& all = tensors();
  auto it = std::lower_bound(all.begin(), all.end(), name,
                             [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return (it != all.end() && it->name == name) ? &*it : nullptr;
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenCheckpoint(const std::string& path) {
  if (absl::EndsWith(path, ".safetensors.index.json")) return OpenSafetensorsIndex(path);
  if (absl::EndsWith(path, ".safetensors")) return OpenSafetensors(path);
  if (absl::EndsWith(path, ".pth") || absl::EndsWith(path, ".pt") || absl::EndsWith(path, ".bin")) {
    return OpenPth(path);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": unknown checkpoint kind (expected .safetensors, .safetensors.index.json or .pth)"));
}

}  // namespace videogen::io

// Read-only access to named tensors stored in checkpoint files (safetensors,
// PyTorch .pth zips, sharded sets). Implementations map the files and hand
// out zero-copy CPU views where the stored layout allows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::io {

// Element types found in checkpoints. Float8 types are exposed as raw bytes
// (torch::kUInt8 tensors) so that they load on every LibTorch version.
enum class DType { kF64, kF32, kF16, kBF16, kF8E4M3, kF8E5M2, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view DTypeName(DType dtype);          // safetensors spelling: "F32", "BF16", ...
int64_t DTypeSize(DType dtype);                   // bytes per element
torch::ScalarType TorchScalarType(DType dtype);   // kF8* -> torch::kUInt8
bool IsFloatingPoint(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t nbytes = 0;
  std::string file;  // the file that holds the data (for error messages)
};

// Thread safety: all methods are const and safe to call concurrently.
class TensorSource {
 public:
  virtual ~TensorSource() = default;

  // Every tensor, sorted by name.
  virtual const std::vector<TensorInfo>& tensors() const = 0;

  // nullptr when absent.
  const TensorInfo* Find(std::string_view name) const;

  // A CPU tensor with the stored dtype and shape. Zero-copy view into the file
  // mapping when possible; the tensor keeps the mapping alive. Errors:
  // NotFound (name), DataLoss (truncated/corrupt file, naming file and tensor).
  virtual absl::StatusOr<torch::Tensor> Read(std::string_view name) const = 0;

  // Hint that the pages holding `name` will not be read again (releases them
  // from this process' RSS). Views returned earlier stay valid.
  virtual void Release(std::string_view name) const {}

  // Human-readable origin ("model.safetensors", "3 shards in dir/") for errors.
  virtual std::string Describe() const = 0;
};

// Opens a checkpoint by path: `*.safetensors`, a sharded `*.safetensors.index.json`,
// or a PyTorch zip (`*.pth`, `*.pt`, `*.bin`). InvalidArgument for unknown kinds,
// NotFound for missing files, DataLoss for corrupt ones.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenCheckpoint(const std::string& path);

}  // namespace videogen::io

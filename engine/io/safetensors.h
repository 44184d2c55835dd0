// safetensors files: 8-byte little-endian header size N, N bytes of JSON
// {name: {dtype, shape, data_offsets}} (+ optional "__metadata__"), then data.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::io {

// One mapped safetensors file. The header is validated completely at open
// (dtypes, shapes vs byte ranges, ranges inside the file, no overlaps), so a
// truncated or corrupt file fails here with DataLoss naming file and tensor.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensors(const std::string& path);

// A sharded set described by `*.safetensors.index.json` ({"weight_map": {name: file}}),
// or every `*.safetensors` file listed explicitly. Duplicate names are an error.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsIndex(const std::string& index_path);
absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsFiles(const std::vector<std::string>& paths);

// The "__metadata__" string map of a safetensors file (empty when absent).
absl::StatusOr<std::map<std::string, std::string>> ReadSafetensorsMetadata(const std::string& path);

// Parses only the header: names, dtypes and shapes, no tensor data read.
absl::StatusOr<std::vector<TensorInfo>> ReadSafetensorsHeader(const std::string& path);

// Writes `tensors` (contiguous copies are made as needed) in name order.
// Float8 data must be given as kUInt8 tensors with `dtype_override` set.
struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
  std::optional<DType> dtype_override;
};
absl::Status WriteSafetensors(const std::string& path, std::vector<NamedTensor> tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace videogen::io

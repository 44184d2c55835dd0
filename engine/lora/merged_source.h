// LoRAs merged at load: a TensorSource that presents a base checkpoint with
// adapters added, one tensor at a time as the loader reads it, so a merged
// load streams with the same bounded host memory as a plain one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/tensor_source.h"
#include "engine/lora/lora_adapter.h"

namespace videogen::lora {

struct AppliedLora {
  std::shared_ptr<const LoraAdapter> adapter;
  double strength = 1.0;
};

// Read(name) of a parameter some adapter touches returns, in float32,
// base + delta_1 + delta_2 + ... (LoraAdapter::DeltaFor, adapters in order,
// each added in float32); its TensorInfo says F32. Other tensors pass through
// unchanged. Merged tensors are fresh copies (the loader then quantizes them
// to fp8 or converts them to its dtype as it would the stored ones).
// InvalidArgument naming the tensor when an adapter touches a parameter stored
// in fp8 (merge into a high-precision checkpoint instead).
absl::StatusOr<std::unique_ptr<io::TensorSource>> MergeLoras(std::unique_ptr<io::TensorSource> base,
                                                             std::vector<AppliedLora> loras);

// A LoRA file merged at load (the server's --lora PATH[:STRENGTH]).
struct LoraFileSpec {
  std::string path;
  double strength = 1.0;
};

// "PATH" or "PATH:STRENGTH" (a finite number in [-10, 10]; a path may itself
// contain ':' when a strength follows). InvalidArgument("lora: ...") naming the
// flag value.
absl::StatusOr<LoraFileSpec> ParseLoraFileSpec(absl::string_view flag);

// Opens each file, detects its convention (DetectLoraConvention), reads it
// against `base` (LoraAdapter::Read) and returns `base` with all of them merged
// in order (MergeLoras). Errors name the file.
absl::StatusOr<std::unique_ptr<io::TensorSource>> MergeLoraFiles(std::unique_ptr<io::TensorSource> base,
                                                                 const std::vector<LoraFileSpec>& files);

}  // namespace videogen::lora

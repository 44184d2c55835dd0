// Loading module parameters from checkpoint tensors by their official names.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "engine/io/tensor_source.h"

namespace videogen::models {

struct LoadOptions {
  // Prepended to every module name when looking it up in the source
  // ("model.diffusion_model." for ComfyUI single files, "" for official files).
  std::string prefix;
  // Source names (after removing `prefix`) that may be present without a
  // matching parameter, e.g. tensors the official forward never reads.
  std::vector<std::string> allowed_unused;
  // When true, source names that start with something other than `prefix`
  // are not reported as unexpected (several components in one file).
  bool ignore_outside_prefix = false;
  // Target dtype for floating-point parameters and buffers; integer tensors keep theirs.
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
};

// Copies every parameter and buffer of `module` (recursively, by its dotted
// name) from `source`, converting to `options.dtype` / `options.device`, and
// releases the source pages of each tensor after it is copied.
// Errors: InvalidArgument listing missing and unexpected names (up to 20 of each,
// with counts) or a shape mismatch naming the tensor and both shapes;
// DataLoss from reading; ResourceExhausted when memory runs out.
absl::Status LoadStateDict(torch::nn::Module& module, const io::TensorSource& source,
                           const LoadOptions& options = {});

}  // namespace videogen::models

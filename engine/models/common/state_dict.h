// Loading module parameters from checkpoint tensors by their official names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "engine/io/tensor_source.h"
#include "engine/quant/policy.h"

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
  // Resident fp8 weights. When set, the weight of every quant::QuantLinear
  // layer that `fp8->policy` selects is held in fp8 on `device` (quantized
  // with `fp8->scaling` from high-precision files; fp8 tensors of
  // pre-quantized files keep their codes and scale) and computes in `dtype`.
  // When unset, fp8 tensors found in the file are dequantized to `dtype`.
  std::optional<quant::Fp8Options> fp8;
};

// Copies every parameter and buffer of `module` (recursively, by its dotted
// name) from `source`, converting to `options.dtype` / `options.device` (or
// fp8, see LoadOptions::fp8), one tensor at a time straight from the source
// view to its resident form, and releases the source pages of each tensor
// after it is consumed: no whole checkpoint is ever held in anonymous memory.
// Next to a QuantLinear `<layer>.weight` the source may hold its scale
// (`<layer>.scale_weight` or `<layer>.weight_scale`), input scales and the
// ComfyUI `scaled_fp8` marker; these are consumed, not "unexpected".
// Errors: InvalidArgument listing missing and unexpected names (up to 20 of each,
// with counts) or a shape mismatch naming the tensor and both shapes;
// InvalidArgument naming the tensor for F8_E5M2 data (unsupported);
// DataLoss from reading; ResourceExhausted when memory runs out.
absl::Status LoadStateDict(torch::nn::Module& module, const io::TensorSource& source,
                           const LoadOptions& options = {});

}  // namespace videogen::models

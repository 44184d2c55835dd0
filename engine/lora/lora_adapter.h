// A LoRA file read once and mapped onto a model's official parameters: per
// module, the low-rank pair and its scale (alpha / rank), and full deltas of
// the weight (`diff`) and bias (`diff_b`). Tensors are float32 on the CPU
// (bf16/fp16 files are converted when read).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/lora/convention.h"

namespace videogen::lora {

struct LoraModuleDelta {
  torch::Tensor down;    // [r, in], or undefined
  torch::Tensor up;      // [out, r], or undefined
  double scale = 1.0;    // alpha / r; 1 when the file has no alpha for the module
  torch::Tensor diff;    // full delta of <module>.weight, or undefined
  torch::Tensor diff_b;  // delta of <module>.bias, or undefined
};

// Thread safety: immutable after Read.
class LoraAdapter {
 public:
  // Reads every key of `file` in `convention` against the model whose
  // parameters `base` holds (official names, e.g. a DiT checkpoint). Every key
  // must map (InvalidArgument naming the key otherwise); a down without its up
  // (or the reverse), an alpha without a pair, a rank mismatch, or a delta
  // whose shape differs from the parameter's is InvalidArgument naming the
  // module. `name` labels the adapter in messages (e.g. the file name).
  static absl::StatusOr<LoraAdapter> Read(const io::TensorSource& file, LoraConvention convention,
                                          const io::TensorSource& base, std::string name);

  const std::string& name() const { return name_; }
  const std::map<std::string, LoraModuleDelta>& modules() const { return modules_; }

  // The float32 delta this adapter adds to parameter `param` (official name,
  // "<module>.weight" or "<module>.bias") at `strength`:
  // strength * (scale * up @ down + diff) for a weight, strength * diff_b for
  // a bias; undefined when the adapter does not touch `param`.
  torch::Tensor DeltaFor(const std::string& param, double strength) const;

  // Bytes of the adapter's tensors.
  uint64_t bytes() const;

 private:
  LoraAdapter(std::string name, std::map<std::string, LoraModuleDelta> modules)
      : name_(std::move(name)), modules_(std::move(modules)) {}

  std::string name_;
  std::map<std::string, LoraModuleDelta> modules_;  // official module path -> deltas
};

// Opens the LoRA file at `path`, detects its convention (DetectLoraConvention)
// and reads it against `base` (LoraAdapter::Read) under `name`. Errors name
// the file and the key.
absl::StatusOr<std::shared_ptr<const LoraAdapter>> ReadLoraFile(const std::string& path,
                                                                const io::TensorSource& base, std::string name);

}  // namespace videogen::lora

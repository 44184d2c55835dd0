// Per-request adapters: LoRAs applied unmerged, as low-rank side paths beside
// the resident (possibly fp8) weights of a model's QuantLinear layers, so the
// base weights are never re-quantized and requests with different adapters
// share one worker. Used between forwards (one request at a time).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "engine/lora/merged_source.h"
#include "engine/quant/quant_linear.h"

namespace videogen::lora {

// Thread safety: Apply/Clear mutate the model's layers; call them from the
// thread that runs the model, between forwards.
class SidePathTargets {
 public:
  // Indexes the QuantLinear layers of `model` by module path. `model` must
  // outlive this object.
  explicit SidePathTargets(torch::nn::Module& model);

  // OK when every module `adapter` touches is a QuantLinear layer changed by
  // a low-rank pair only; InvalidArgument naming the adapter and the module
  // otherwise (full-rank `diff`/`diff_b` deltas can only be merged at load).
  absl::Status CheckServable(const LoraAdapter& adapter) const;

  // Sets, on every layer the adapters touch, one side path per adapter
  // (down, up, scale * strength), replacing earlier ones; layers they do not
  // touch get none. InvalidArgument as CheckServable.
  absl::Status Apply(const std::vector<AppliedLora>& adapters);

  // Removes every side path.
  void Clear();

 private:
  std::map<std::string, quant::QuantLinearImpl*> layers_;  // module path -> layer
};

}  // namespace videogen::lora

#include "engine/lora/side_paths.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::lora {

SidePathTargets::SidePathTargets(torch::nn::Module& model) {
  for (const auto& item : model.named_modules()) {
    if (auto* layer = item.value()->as<quant::QuantLinearImpl>()) layers_[item.key()] = layer;
  }
}

absl::Status SidePathTargets::CheckServable(const LoraAdapter& adapter) const {
  for (const auto& [module, d] : adapter.modules()) {
    if (d.diff.defined() || d.diff_b.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("lora ", adapter.name(), ": module '", module,
                                                     "' has a full-rank diff; such adapters can only be merged at "
                                                     "load (--lora), not applied per request"));
    }
    if (layers_.count(module) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("lora ", adapter.name(), ": module '", module,
                                                     "' is not a linear layer that takes side paths; merge the "
                                                     "adapter at load (--lora) instead"));
    }
  }
  return absl::OkStatus();
}

absl::Status SidePathTargets::Apply(const std::vector<AppliedLora>& adapters) {
  std::map<std::string, std::vector<quant::LowRankPath>> paths;
  for (const AppliedLora& a : adapters) {
    RETURN_IF_ERROR(CheckServable(*a.adapter));
    for (const auto& [module, d] : a.adapter->modules()) {
      if (d.down.defined()) paths[module].push_back({d.down, d.up, d.scale * a.strength});
    }
  }
  Clear();
  return TorchCall("applying adapters", [&]() -> absl::Status {
    for (auto& [module, p] : paths) RETURN_IF_ERROR(layers_.at(module)->SetSidePaths(std::move(p)));
    return absl::OkStatus();
  });
}

void SidePathTargets::Clear() {
  for (auto& [module, layer] : layers_) {
    if (layer->num_side_paths() != 0) layer->SetSidePaths({}).IgnoreError();
  }
}

}  // namespace videogen::lora

#include "engine/lora/lora_adapter.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::lora {
namespace {

std::string ModuleOf(const std::string& param) {
  const size_t dot = param.rfind('.');
  return dot == std::string::npos ? std::string() : param.substr(0, dot);
}

std::string Shape(c10::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

// The base parameter `module` + "." + leaf, or null.
const io::TensorInfo* Param(const io::TensorSource& base, const std::string& module, const char* leaf) {
  return base.Find(absl::StrCat(module, ".", leaf));
}

absl::Status CheckShape(const std::string& adapter, const std::string& module, const char* what,
                        c10::IntArrayRef have, const io::TensorInfo* param) {
  if (param != nullptr && have == c10::IntArrayRef(param->shape)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "lora ", adapter, ": ", what, " of module '", module, "' has shape ", Shape(have), " but the model's ",
      param == nullptr ? "parameter is missing" : absl::StrCat("parameter has shape ", Shape(param->shape))));
}

// Pairs, ranks and shapes of one module against the base model; sets the scale.
absl::Status Finish(const std::string& adapter, const std::string& module, const io::TensorSource& base,
                    const torch::Tensor& alpha, LoraModuleDelta& d) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("lora ", adapter, ": module '", module, "': ", why));
  };
  if (d.down.defined() != d.up.defined()) return bad("has only one of the low-rank pair (down/A, up/B)");
  if (alpha.defined() && !d.down.defined()) return bad("has an alpha but no low-rank pair");
  if (d.down.defined()) {
    if (d.down.dim() != 2 || d.up.dim() != 2 || d.up.size(1) != d.down.size(0)) {
      return bad(absl::StrCat("rank mismatch: down ", Shape(d.down.sizes()), ", up ", Shape(d.up.sizes())));
    }
    if (alpha.defined() && alpha.numel() != 1) return bad("alpha is not a scalar");
    d.scale = alpha.defined() ? alpha.item<double>() / static_cast<double>(d.down.size(0)) : 1.0;
    RETURN_IF_ERROR(CheckShape(adapter, module, "up @ down", {d.up.size(0), d.down.size(1)},
                               Param(base, module, "weight")));
  }
  if (d.diff.defined()) RETURN_IF_ERROR(CheckShape(adapter, module, "diff", d.diff.sizes(), Param(base, module, "weight")));
  if (d.diff_b.defined()) {
    RETURN_IF_ERROR(CheckShape(adapter, module, "diff_b", d.diff_b.sizes(), Param(base, module, "bias")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoraAdapter> LoraAdapter::Read(const io::TensorSource& file, LoraConvention convention,
                                              const io::TensorSource& base, std::string name) {
  std::set<std::string> modules;
  for (const io::TensorInfo& info : base.tensors()) modules.insert(ModuleOf(info.name));
  const LoraKeyMap map(convention, std::move(modules));
  std::map<std::string, LoraModuleDelta> deltas;
  std::map<std::string, torch::Tensor> alphas;
  for (const io::TensorInfo& info : file.tensors()) {
    auto key = map.Map(info.name);
    if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("lora ", name, ": ", key.status().message()));
    if (!io::IsFloatingPoint(info.dtype) || info.dtype == io::DType::kF8E4M3 || info.dtype == io::DType::kF8E5M2) {
      return absl::InvalidArgumentError(absl::StrCat("lora ", name, ": tensor '", info.name, "' is ",
                                                     std::string(io::DTypeName(info.dtype)), " (expected F32, F16 or BF16)"));
    }
    ASSIGN_OR_RETURN(torch::Tensor stored, file.Read(info.name));
    ASSIGN_OR_RETURN(torch::Tensor value, TorchCall(absl::StrCat("lora ", name, ": ", info.name),
                                                    [&] { return stored.to(torch::kFloat32).contiguous().clone(); }));
    LoraModuleDelta& d = deltas[key->module];
    torch::Tensor* slot = nullptr;
    switch (key->part) {
      case LoraPart::kDown: slot = &d.down; break;
      case LoraPart::kUp: slot = &d.up; break;
      case LoraPart::kAlpha: slot = &alphas[key->module]; break;
      case LoraPart::kDiff: slot = &d.diff; break;
      case LoraPart::kDiffBias: slot = &d.diff_b; break;
    }
    if (slot->defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("lora ", name, ": tensor '", info.name, "' repeats a part of module '", key->module, "'"));
    }
    *slot = std::move(value);
  }
  for (auto& [module, d] : deltas) {
    auto it = alphas.find(module);
    RETURN_IF_ERROR(Finish(name, module, base, it == alphas.end() ? torch::Tensor() : it->second, d));
  }
  return LoraAdapter(std::move(name), std::move(deltas));
}

torch::Tensor LoraAdapter::DeltaFor(const std::string& param, double strength) const {
  const size_t dot = param.rfind('.');
  if (dot == std::string::npos) return {};
  auto it = modules_.find(param.substr(0, dot));
  if (it == modules_.end()) return {};
  const LoraModuleDelta& d = it->second;
  const std::string leaf = param.substr(dot + 1);
  if (leaf == "bias") return d.diff_b.defined() ? d.diff_b * strength : torch::Tensor();
  if (leaf != "weight") return {};
  torch::Tensor delta;
  if (d.down.defined()) delta = at::matmul(d.up, d.down) * (strength * d.scale);
  if (d.diff.defined()) delta = delta.defined() ? delta + d.diff * strength : d.diff * strength;
  return delta;
}

uint64_t LoraAdapter::bytes() const {
  uint64_t n = 0;
  for (const auto& [module, d] : modules_) {
    for (const torch::Tensor* t : {&d.down, &d.up, &d.diff, &d.diff_b}) {
      if (t->defined()) n += static_cast<uint64_t>(t->numel() * t->element_size());
    }
  }
  return n;
}

absl::StatusOr<std::shared_ptr<const LoraAdapter>> ReadLoraFile(const std::string& path,
                                                                const io::TensorSource& base, std::string name) {
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> file, io::OpenCheckpoint(path));
  ASSIGN_OR_RETURN(const LoraConvention convention, DetectLoraConvention(*file));
  ASSIGN_OR_RETURN(LoraAdapter adapter, LoraAdapter::Read(*file, convention, base, std::move(name)));
  return std::make_shared<const LoraAdapter>(std::move(adapter));
}

}  // namespace videogen::lora

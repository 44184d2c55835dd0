#include "engine/models/common/state_dict.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/quant/fp8_storage.h"
#include "engine/quant/fp8_tensor.h"
#include "engine/quant/quant_linear.h"

namespace videogen::models {
namespace {

std::string ListSome(const std::vector<std::string>& names) {
  constexpr size_t kMax = 20;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kMax));
  std::string s = absl::StrJoin(shown, ", ");
  if (names.size() > kMax) absl::StrAppend(&s, ", ... (", names.size(), " in all)");
  return s;
}

std::string ShapeString(c10::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

std::string Join(const std::string& path, std::string_view leaf) {
  return path.empty() ? std::string(leaf) : absl::StrCat(path, ".", std::string(leaf));
}

// The QuantLinear layers of `module` by dotted path ("" for the module itself).
std::map<std::string, quant::QuantLinearImpl*> QuantLayers(torch::nn::Module& module) {
  std::map<std::string, quant::QuantLinearImpl*> layers;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    if (auto* q = dynamic_cast<quant::QuantLinearImpl*>(item.value().get())) layers[item.key()] = q;
  }
  return layers;
}

// The per-tensor scale stored next to layer `path` (1 when absent).
absl::StatusOr<float> ReadWeightScale(const io::TensorSource& source, const std::string& key_path) {
  for (std::string_view leaf : quant::kWeightScaleNames) {
    const std::string key = Join(key_path, leaf);
    if (source.Find(key) == nullptr) continue;
    ASSIGN_OR_RETURN(torch::Tensor s, source.Read(key));
    if (s.numel() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", key, "': a per-tensor scale must have one element"));
    }
    return TorchCall(absl::StrCat("reading '", key, "'"), [&] { return s.to(torch::kFloat32).item<float>(); });
  }
  return 1.0f;
}

using Targets = std::vector<std::pair<std::string, torch::Tensor>>;
using QuantLayerMap = std::map<std::string, quant::QuantLinearImpl*>;

// InvalidArgument listing the missing and unexpected keys, if any.
absl::Status CheckKeys(const Targets& targets, const QuantLayerMap& quant_layers, const io::TensorSource& source,
                       const LoadOptions& options) {
  std::set<std::string> target_names;
  for (const auto& t : targets) target_names.insert(t.first);
  // Scales and markers that pre-quantized files keep next to QuantLinear weights.
  std::set<std::string> auxiliary = {std::string(quant::kScaledFp8Marker)};
  for (const auto& [path, layer] : quant_layers) {
    for (std::string_view leaf : quant::kWeightScaleNames) auxiliary.insert(Join(path, leaf));
    for (std::string_view leaf : quant::kInputScaleNames) auxiliary.insert(Join(path, leaf));
  }
  std::vector<std::string> missing;
  for (const auto& [name, target] : targets) {
    const std::string key = options.prefix + name;
    if (source.Find(key) == nullptr) missing.push_back(key);
  }
  std::vector<std::string> unexpected;
  for (const io::TensorInfo& info : source.tensors()) {
    if (!absl::StartsWith(info.name, options.prefix)) {
      if (!options.ignore_outside_prefix) unexpected.push_back(info.name);
      continue;
    }
    const std::string local = info.name.substr(options.prefix.size());
    const bool known = target_names.count(local) > 0 || auxiliary.count(local) > 0;
    const bool allowed = std::find(options.allowed_unused.begin(), options.allowed_unused.end(), local) !=
                         options.allowed_unused.end();
    if (!known && !allowed) unexpected.push_back(info.name);
  }
  if (missing.empty() && unexpected.empty()) return absl::OkStatus();
  std::string msg = absl::StrCat(source.Describe(), ": state dict does not match the model");
  if (!missing.empty()) absl::StrAppend(&msg, "; missing keys: ", ListSome(missing));
  if (!unexpected.empty()) absl::StrAppend(&msg, "; unexpected keys: ", ListSome(unexpected));
  return absl::InvalidArgumentError(msg);
}

// Stores `stored` (read from `key`) into `target`: dequantized from fp8 when
// stored so, converted to options.dtype when floating, moved to options.device.
absl::Status SetPlain(torch::Tensor& target, const torch::Tensor& stored, bool stored_fp8, float scale,
                      const LoadOptions& options, const std::string& what) {
  return TorchCall(what, [&] {
    torch::Tensor value;
    if (stored_fp8) {
      value = quant::DecodeE4M3Tensor(stored, scale, options.dtype).to(options.device);
    } else {
      const torch::ScalarType dtype =
          torch::isFloatingType(stored.scalar_type()) ? options.dtype : stored.scalar_type();
      value = stored.to(options.device, dtype, /*non_blocking=*/false, /*copy=*/true);
    }
    // Replace storage rather than copy_ so that dtype/device may change.
    target.set_data(value);
  });
}

// Reads one tensor into its parameter: into a QuantLinear's fp8 weight when
// `layer` is set and fp8 applies, else as a plain tensor; then releases its pages.
absl::Status LoadOne(const std::string& name, torch::Tensor& target, quant::QuantLinearImpl* layer,
                     const std::string& layer_path, const io::TensorSource& source, const LoadOptions& options) {
  const std::string key = options.prefix + name;
  const io::TensorInfo* info = source.Find(key);
  if (c10::IntArrayRef(info->shape) != target.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat(info->file, ": tensor '", key, "' has shape ",
                                                   ShapeString(info->shape), ", the model expects ",
                                                   ShapeString(target.sizes())));
  }
  if (info->dtype == io::DType::kF8E5M2) {
    return absl::InvalidArgumentError(absl::StrCat(info->file, ": tensor '", key, "' is F8_E5M2 (unsupported)"));
  }
  const bool stored_fp8 = info->dtype == io::DType::kF8E4M3;
  float scale = 1.0f;
  if (layer != nullptr && stored_fp8) {
    ASSIGN_OR_RETURN(scale, ReadWeightScale(source, options.prefix + layer_path));
  }
  ASSIGN_OR_RETURN(torch::Tensor stored, source.Read(key));
  const std::string what = absl::StrCat("loading '", key, "'");
  if (layer != nullptr && options.fp8 && (stored_fp8 || options.fp8->policy.QuantizesLayer(layer_path))) {
    quant::Fp8Weight weight;
    if (stored_fp8) {
      ASSIGN_OR_RETURN(torch::Tensor codes, TorchCall(what, [&] {
                         return stored.to(options.device, torch::kUInt8, /*non_blocking=*/false, /*copy=*/true);
                       }));
      weight = {quant::Fp8StorageFromCodes(codes), scale};
    } else {
      ASSIGN_OR_RETURN(weight, quant::QuantizeWeight(stored, options.fp8->scaling, options.device));
    }
    RETURN_IF_ERROR(layer->SetFp8Weight(std::move(weight), options.dtype));
  } else {
    RETURN_IF_ERROR(SetPlain(target, stored, stored_fp8, scale, options, what));
  }
  stored = torch::Tensor();
  source.Release(key);
  if (layer != nullptr) {
    for (std::string_view leaf : quant::kWeightScaleNames) source.Release(options.prefix + Join(layer_path, leaf));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadStateDict(torch::nn::Module& module, const io::TensorSource& source, const LoadOptions& options) {
  Targets targets;
  for (auto& p : module.named_parameters(/*recurse=*/true)) targets.emplace_back(p.key(), p.value());
  for (auto& b : module.named_buffers(/*recurse=*/true)) targets.emplace_back(b.key(), b.value());
  const QuantLayerMap quant_layers = QuantLayers(module);
  RETURN_IF_ERROR(CheckKeys(targets, quant_layers, source, options));

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    // A QuantLinear weight: `layer` is set, `layer_path` its dotted path.
    quant::QuantLinearImpl* layer = nullptr;
    std::string layer_path;
    if (name == "weight" || absl::EndsWith(name, ".weight")) {
      layer_path = name.size() > 6 ? name.substr(0, name.size() - 7) : "";
      if (auto it = quant_layers.find(layer_path); it != quant_layers.end()) layer = it->second;
    }
    RETURN_IF_ERROR(LoadOne(name, target, layer, layer_path, source, options));
  }
  return absl::OkStatus();
}

}  // namespace videogen::models

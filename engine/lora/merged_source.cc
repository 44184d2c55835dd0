#include "engine/lora/merged_source.h"

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::lora {
namespace {

class MergedSource final : public io::TensorSource {
 public:
  MergedSource(std::unique_ptr<io::TensorSource> base, std::vector<AppliedLora> loras, std::vector<io::TensorInfo> infos,
               std::set<std::string> merged)
      : base_(std::move(base)), loras_(std::move(loras)), infos_(std::move(infos)), merged_(std::move(merged)) {}

  const std::vector<io::TensorInfo>& tensors() const override { return infos_; }

  absl::StatusOr<torch::Tensor> Read(std::string_view name) const override {
    ASSIGN_OR_RETURN(torch::Tensor stored, base_->Read(name));
    const std::string param(name);
    if (merged_.count(param) == 0) return stored;
    return TorchCall(absl::StrCat("merging LoRAs into '", param, "'"), [&] {
      torch::Tensor w = stored.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
      for (const AppliedLora& l : loras_) {
        const torch::Tensor delta = l.adapter->DeltaFor(param, l.strength);
        if (delta.defined()) w.add_(delta);
      }
      return w;
    });
  }

  void Release(std::string_view name) const override { base_->Release(name); }

  std::string Describe() const override {
    std::vector<std::string> names;
    for (const AppliedLora& l : loras_) names.push_back(l.adapter->name());
    return absl::StrCat(base_->Describe(), " + LoRA ", absl::StrJoin(names, ", "));
  }

 private:
  // Constant after construction.
  const std::unique_ptr<io::TensorSource> base_;
  const std::vector<AppliedLora> loras_;
  const std::vector<io::TensorInfo> infos_;
  const std::set<std::string> merged_;  // parameters some adapter touches
};

}  // namespace

absl::StatusOr<std::unique_ptr<io::TensorSource>> MergeLoras(std::unique_ptr<io::TensorSource> base,
                                                             std::vector<AppliedLora> loras) {
  std::set<std::string> merged;
  for (const AppliedLora& l : loras) {
    for (const auto& [module, d] : l.adapter->modules()) {
      if (d.down.defined() || d.diff.defined()) merged.insert(module + ".weight");
      if (d.diff_b.defined()) merged.insert(module + ".bias");
    }
  }
  std::vector<io::TensorInfo> infos = base->tensors();
  for (io::TensorInfo& info : infos) {
    if (merged.count(info.name) == 0) continue;
    if (info.dtype == io::DType::kF8E4M3 || info.dtype == io::DType::kF8E5M2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lora: cannot merge into '", info.name, "' of ", base->Describe(), ", stored in ", std::string(io::DTypeName(info.dtype)),
          " (merge into an fp16/bf16/fp32 checkpoint; fp8 residency is applied after merging)"));
    }
    info.dtype = io::DType::kF32;
    int64_t n = 1;
    for (int64_t d : info.shape) n *= d;
    info.nbytes = static_cast<uint64_t>(n) * 4;
  }
  return std::unique_ptr<io::TensorSource>(new MergedSource(std::move(base), std::move(loras), std::move(infos),
                                                            std::move(merged)));
}

absl::StatusOr<LoraFileSpec> ParseLoraFileSpec(absl::string_view flag) {
  LoraFileSpec spec;
  spec.path = std::string(flag);
  const size_t colon = flag.rfind(':');
  double strength = 0;
  if (colon != absl::string_view::npos && absl::SimpleAtod(flag.substr(colon + 1), &strength)) {
    if (!std::isfinite(strength) || std::fabs(strength) > 10) {
      return absl::InvalidArgumentError(absl::StrCat("lora: '", flag, "': strength ", strength,
                                                     " is outside [-10, 10]"));
    }
    spec.path = std::string(flag.substr(0, colon));
    spec.strength = strength;
  }
  if (spec.path.empty()) return absl::InvalidArgumentError(absl::StrCat("lora: '", flag, "' names no file"));
  return spec;
}

absl::StatusOr<std::unique_ptr<io::TensorSource>> MergeLoraFiles(std::unique_ptr<io::TensorSource> base,
                                                                 const std::vector<LoraFileSpec>& files) {
  if (files.empty()) return base;
  std::vector<AppliedLora> loras;
  for (const LoraFileSpec& f : files) {
    ASSIGN_OR_RETURN(std::shared_ptr<const LoraAdapter> adapter,
                     ReadLoraFile(f.path, *base, std::filesystem::path(f.path).filename().string()));
    loras.push_back({std::move(adapter), f.strength});
  }
  return MergeLoras(std::move(base), std::move(loras));
}

}  // namespace videogen::lora

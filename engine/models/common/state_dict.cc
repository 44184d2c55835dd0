#include "engine/models/common/state_dict.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

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

}  // namespace

absl::Status LoadStateDict(torch::nn::Module& module, const io::TensorSource& source, const LoadOptions& options) {
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (auto& p : module.named_parameters(/*recurse=*/true)) targets.emplace_back(p.key(), p.value());
  for (auto& b : module.named_buffers(/*recurse=*/true)) targets.emplace_back(b.key(), b.value());

  std::set<std::string> target_names;
  for (const auto& t : targets) target_names.insert(t.first);
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
    const bool known = target_names.count(local) > 0;
    const bool allowed = std::find(options.allowed_unused.begin(), options.allowed_unused.end(), local) !=
                         options.allowed_unused.end();
    if (!known && !allowed) unexpected.push_back(info.name);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = absl::StrCat(source.Describe(), ": state dict does not match the model");
    if (!missing.empty()) absl::StrAppend(&msg, "; missing keys: ", ListSome(missing));
    if (!unexpected.empty()) absl::StrAppend(&msg, "; unexpected keys: ", ListSome(unexpected));
    return absl::InvalidArgumentError(msg);
  }

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    const std::string key = options.prefix + name;
    const io::TensorInfo* info = source.Find(key);
    if (c10::IntArrayRef(info->shape) != target.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(info->file, ": tensor '", key, "' has shape ",
                                                     ShapeString(info->shape), ", the model expects ",
                                                     ShapeString(target.sizes())));
    }
    ASSIGN_OR_RETURN(torch::Tensor stored, source.Read(key));
    RETURN_IF_ERROR(TorchCall(absl::StrCat("loading '", key, "'"), [&] {
      const torch::ScalarType dtype =
          torch::isFloatingType(stored.scalar_type()) ? options.dtype : stored.scalar_type();
      torch::Tensor value = stored.to(options.device, dtype, /*non_blocking=*/false, /*copy=*/true);
      // Replace storage rather than copy_ so that dtype/device may change.
      target.set_data(value);
    }));
    source.Release(key);
  }
  return absl::OkStatus();
}

}  // namespace videogen::models

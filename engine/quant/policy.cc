#include "engine/quant/policy.h"

namespace videogen::quant {

bool Fp8Policy::QuantizesLayer(std::string_view module_path) const {
  size_t begin = 0;
  while (begin <= module_path.size()) {
    const size_t dot = std::min(module_path.find('.', begin), module_path.size());
    const std::string_view part = module_path.substr(begin, dot - begin);
    for (const std::string& keep : keep_high_precision) {
      if (part == keep) return false;
    }
    begin = dot + 1;
  }
  return true;
}

bool Fp8Policy::QuantizesTensor(std::string_view name, const std::vector<int64_t>& shape) const {
  constexpr std::string_view kSuffix = ".weight";
  if (shape.size() != 2 || name.size() <= kSuffix.size() ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  return QuantizesLayer(name.substr(0, name.size() - kSuffix.size()));
}

Fp8Policy Fp8Policy::WanDit() {
  return Fp8Policy{{"patch_embedding", "text_embedding", "time_embedding", "time_projection", "head", "img_emb",
                    "modulation", "norm", "norm1", "norm2", "norm3", "norm_q", "norm_k", "norm_k_img"}};
}

}  // namespace videogen::quant

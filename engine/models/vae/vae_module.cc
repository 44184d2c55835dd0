#include "engine/models/vae/vae_module.h"

#include "engine/models/vae/wan22_vae_model.h"
#include "engine/models/vae/wan_vae_model.h"

namespace videogen::models::vae {

std::vector<std::pair<int64_t, int64_t>> VaeModule::EncodeChunks(int64_t frames) {
  std::vector<std::pair<int64_t, int64_t>> chunks;
  const int64_t n = 1 + (frames - 1) / 4;
  for (int64_t i = 0; i < n; ++i) {
    chunks.emplace_back(i == 0 ? 0 : 1 + 4 * (i - 1), i == 0 ? 1 : 1 + 4 * i);
  }
  return chunks;
}

std::shared_ptr<VaeModule> MakeVaeModule(const VaeConfig& config) {
  if (config.version == VaeVersion::kWan22) return Wan22VAE_(config).ptr();
  return WanVAE_(config).ptr();
}

}  // namespace videogen::models::vae

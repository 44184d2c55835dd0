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

void VaeModule::RegisterLatentConvs(int64_t z_dim) {
  conv1_ = register_module("conv1", CausalConv3d(CausalConv3dOptions{2 * z_dim, 2 * z_dim}));
  conv2_ = register_module("conv2", CausalConv3d(CausalConv3dOptions{z_dim, z_dim}));
}

torch::Tensor VaeModule::Mu(const torch::Tensor& out) {
  // out: [B, 2 * z_dim, T, h, w]
  return conv1_->forward(out).chunk(2, /*dim=*/1)[0];
}

torch::Tensor VaeModule::PrepareDecode(const torch::Tensor& z) {
  // z: [B, z_dim, T, h, w]
  return conv2_->forward(z);
}

std::shared_ptr<VaeModule> MakeVaeModule(const VaeConfig& config) {
  if (config.version == VaeVersion::kWan22) return Wan22VAE_(config).ptr();
  return WanVAE_(config).ptr();
}

}  // namespace videogen::models::vae

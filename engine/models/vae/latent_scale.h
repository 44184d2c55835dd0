// The per-channel latent normalisation constants of the official VAE
// wrappers (WanVAE in wan/modules/vae.py, Wan2_2_VAE in wan/modules/vae2_2.py).
#pragma once

#include "absl/types/span.h"
#include "engine/models/vae/vae_config.h"

namespace videogen::models::vae {

// mean / std per latent channel, as written in the reference (4 decimals):
// latent = (mu - mean) * (1 / std). 16 channels for kWan21, 48 for kWan22.
struct LatentScale {
  absl::Span<const float> mean;
  absl::Span<const float> std;
};

// The constants of `version`'s wrapper (static storage).
LatentScale OfficialLatentScale(VaeVersion version);

}  // namespace videogen::models::vae

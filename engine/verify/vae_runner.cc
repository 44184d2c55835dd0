#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/wan_vae.h"
#include "engine/verify/runners.h"

namespace videogen::verify {
namespace {

namespace vae = ::videogen::models::vae;

absl::StatusOr<std::unique_ptr<vae::WanVae>> LoadVae(const Fixture& fixture, const RunOptions& options) {
  if (options.weight_dtype == WeightDType::kFp8) {
    return absl::InvalidArgumentError(absl::StrCat("fp8 not supported for ", fixture.component, " yet"));
  }
  if (!fixture.meta.contains("config")) {
    return absl::InvalidArgumentError(fixture.name + ": fixture.json has no 'config'");
  }
  // vae22_* fixtures hold the Wan2.2 VAE (wan/modules/vae2_2.py).
  const vae::VaeVersion version =
      fixture.component.rfind("vae22_", 0) == 0 ? vae::VaeVersion::kWan22 : vae::VaeVersion::kWan21;
  vae::WanVaeOptions vae_options;
  vae_options.device = options.device;
  vae_options.conv_dtype = ParamDType(options);  // kBf16: the causal convolutions in bf16
  ASSIGN_OR_RETURN(vae_options.config, vae::VaeConfig::FromJson(fixture.meta["config"], version));
  ASSIGN_OR_RETURN(const std::string weights, fixture.WeightsPath());
  return vae::WanVae::Open(weights, vae_options);
}

absl::StatusOr<std::vector<torch::Tensor>> InputList(const Fixture& fixture, const std::string& prefix) {
  std::vector<torch::Tensor> list = fixture.InputList(prefix);
  if (list.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": no inputs named ", prefix, "_0, ",
                                                   prefix, "_1, ..."));
  }
  return list;
}

}  // namespace

// component vae_encode (WanVAE) or vae22_encode (Wan2_2_VAE).
// Inputs video_0, video_1, ...; outputs latent_i = WanVAE.encode([video_i])[0]
// (normalised) and mu_i (before the normalisation), each from its own call.
absl::StatusOr<TensorMap> RunVaeEncodeFixture(const Fixture& fixture, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<vae::WanVae> model, LoadVae(fixture, options));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> videos, InputList(fixture, "video"));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> latents, model->Encode(videos));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> mus, model->EncodeMu(videos));
  TensorMap outputs;
  for (size_t i = 0; i < videos.size(); ++i) {
    outputs[absl::StrCat("latent_", i)] = latents[i].cpu();
    outputs[absl::StrCat("mu_", i)] = mus[i].cpu();
  }
  return outputs;
}

// component vae_decode (WanVAE) or vae22_decode (Wan2_2_VAE).
// Inputs latent_0, latent_1, ...; outputs video_i = WanVAE.decode([latent_i])[0]
// (clamped) and video_unclamped_i, each from its own call.
absl::StatusOr<TensorMap> RunVaeDecodeFixture(const Fixture& fixture, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<vae::WanVae> model, LoadVae(fixture, options));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> latents, InputList(fixture, "latent"));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> videos, model->Decode(latents));
  ASSIGN_OR_RETURN(const std::vector<torch::Tensor> unclamped, model->DecodeUnclamped(latents));
  TensorMap outputs;
  for (size_t i = 0; i < latents.size(); ++i) {
    outputs[absl::StrCat("video_", i)] = videos[i].cpu();
    outputs[absl::StrCat("video_unclamped_", i)] = unclamped[i].cpu();
  }
  return outputs;
}

}  // namespace videogen::verify

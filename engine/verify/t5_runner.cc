#include <filesystem>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/tensor_source.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/verify/runners.h"

namespace videogen::verify {
namespace {

// hidden_states [B, L, dim] and context_i [len_i, dim] from the weights at `path`.
absl::StatusOr<TensorMap> RunT5(const models::T5Config& config, const std::string& path, const torch::Tensor& ids,
                                const torch::Tensor& mask, const RunOptions& options) {
  ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(path));
  models::LoadOptions load;
  load.device = options.device;
  load.dtype = ParamDType(options);
  ASSIGN_OR_RETURN(models::T5Encoder encoder, models::LoadT5Encoder(config, *source, load));
  return TorchCall("T5 encoder", [&] {
    c10::InferenceMode inference;
    TensorMap out;
    out["hidden_states"] = encoder->forward(ids.to(options.device), mask.to(options.device)).cpu();
    const std::vector<torch::Tensor> contexts = models::TrimToMask(out["hidden_states"], mask);
    for (size_t i = 0; i < contexts.size(); ++i) out["context_" + std::to_string(i)] = contexts[i];
    return out;
  });
}

}  // namespace

absl::StatusOr<TensorMap> RunT5Fixture(const Fixture& fixture, const RunOptions& options) {
  if (options.weight_dtype == WeightDType::kFp8) {
    return absl::InvalidArgumentError("--dtype fp8 is not supported for the T5 encoder");
  }
  ASSIGN_OR_RETURN(models::T5Config config,
                   models::T5Config::FromJson(fixture.meta.value("config", nlohmann::json())));
  ASSIGN_OR_RETURN(std::string weights, fixture.WeightsPath());
  ASSIGN_OR_RETURN(torch::Tensor ids, fixture.Input("ids"));
  ASSIGN_OR_RETURN(torch::Tensor mask, fixture.Input("mask"));
  if (ids.dim() != 2 || mask.sizes() != ids.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": ids and mask must both be [B, L]"));
  }
  ASSIGN_OR_RETURN(TensorMap out, RunT5(config, weights, ids, mask, options));

  const std::filesystem::path pth = std::filesystem::path(fixture.dir) / "weights.pth";
  if (std::filesystem::exists(pth) && !std::filesystem::equivalent(pth, weights)) {
    ASSIGN_OR_RETURN(TensorMap from_pth, RunT5(config, pth.string(), ids, mask, options));
    RETURN_IF_ERROR(CheckSameOutputs(out, from_pth, pth.string()));
  }
  return out;
}

}  // namespace videogen::verify

#include "engine/common/status_macros.h"
#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/verify/runners.h"

namespace videogen::verify {

absl::StatusOr<TensorMap> RunDitFixture(const Fixture& fixture, const RunOptions& options) {
  ASSIGN_OR_RETURN(models::WanConfig config, models::WanConfig::FromJson(fixture.meta.value("config", nlohmann::json())));
  models::WanModel model(config, quant::ParamInit::kUninitialized);
  ASSIGN_OR_RETURN(std::string weights, fixture.WeightsPath());
  ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(weights));
  models::LoadOptions load;
  if (options.weight_dtype == WeightDType::kFp8) {
    load.fp8 = quant::Fp8Options{quant::Fp8Policy::WanDit(), options.fp8_scaling};
  }
  RETURN_IF_ERROR(models::LoadStateDict(*model, *source, load));

  models::WanInputs in;
  in.x = fixture.InputList("x");
  in.context = fixture.InputList("context");
  in.y = fixture.InputList("y");
  ASSIGN_OR_RETURN(in.t, fixture.Input("t"));
  ASSIGN_OR_RETURN(torch::Tensor seq_len, fixture.Input("seq_len"));
  in.seq_len = seq_len.item<int64_t>();
  if (auto it = fixture.inputs.find("clip_fea"); it != fixture.inputs.end()) in.clip_fea = it->second;
  RETURN_IF_ERROR(models::ValidateInputs(config, in));

  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> out = model->forward(in);
  TensorMap result;
  for (size_t i = 0; i < out.size(); ++i) result["out_" + std::to_string(i)] = out[i];
  return result;
}

}  // namespace videogen::verify

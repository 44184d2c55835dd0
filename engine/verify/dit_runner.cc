#include "engine/common/status_macros.h"
#include "absl/strings/str_cat.h"
#include "engine/io/tensor_source.h"
#include "engine/lora/merged_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/quant/quant_linear.h"
#include "engine/verify/runners.h"

namespace videogen::verify {

namespace {

// The fixture's `loras`, in order: {"file", "strength", "convention"} each.
absl::StatusOr<std::vector<lora::AppliedLora>> ReadLoras(const Fixture& fixture, const io::TensorSource& base) {
  std::vector<lora::AppliedLora> loras;
  if (!fixture.meta.contains("loras") || !fixture.meta["loras"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": fixture.json has no 'loras' list"));
  }
  for (const nlohmann::json& entry : fixture.meta["loras"]) {
    const std::string file = entry.value("file", "");
    const std::string convention_name = entry.value("convention", "");
    const std::optional<lora::LoraConvention> convention = lora::ParseLoraConvention(convention_name);
    if (file.empty() || !convention || !entry.contains("strength") || !entry["strength"].is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": a 'loras' entry needs file, strength and a "
                                                     "convention (comfyui, kohya, diffusers), got ", entry.dump()));
    }
    ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(fixture.dir + "/" + file));
    ASSIGN_OR_RETURN(lora::LoraAdapter adapter, lora::LoraAdapter::Read(*source, *convention, base, file));
    loras.push_back({std::make_shared<const lora::LoraAdapter>(std::move(adapter)), entry["strength"].get<double>()});
  }
  return loras;
}

}  // namespace

models::WanVersion DitVersion(const Fixture& fixture) {
  const nlohmann::json from = fixture.meta.value("generated_from", nlohmann::json::object());
  const std::string repository = from.is_object() ? from.value("repository", std::string()) : std::string();
  const bool wan22 = fixture.component == "dit22" || repository.find("Wan2.2") != std::string::npos;
  return wan22 ? models::WanVersion::kWan22 : models::WanVersion::kWan21;
}

absl::StatusOr<TensorMap> RunDitFixture(const Fixture& fixture, const RunOptions& options) {
  ASSIGN_OR_RETURN(models::WanConfig config, models::WanConfig::FromJson(fixture.meta.value("config", nlohmann::json()),
                                                                         DitVersion(fixture)));
  models::WanModel model(config, quant::ParamInit::kUninitialized);
  ASSIGN_OR_RETURN(std::string weights, fixture.WeightsPath());
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> source, io::OpenCheckpoint(weights));
  const bool with_loras = fixture.component == "dit_lora";
  if (with_loras) {
    ASSIGN_OR_RETURN(std::vector<lora::AppliedLora> loras, ReadLoras(fixture, *source));
    ASSIGN_OR_RETURN(source, lora::MergeLoras(std::move(source), std::move(loras)));
  }
  models::LoadOptions load;
  load.device = options.device;
  load.dtype = ParamDType(options);
  if (options.weight_dtype == WeightDType::kFp8) {
    load.fp8 = quant::Fp8Options{quant::Fp8Policy::WanDit(), options.fp8_scaling};
  }
  RETURN_IF_ERROR(models::LoadStateDict(*model, *source, load));

  models::WanInputs in;
  const auto on_device = [&](std::vector<torch::Tensor> list) {
    for (torch::Tensor& t : list) t = t.to(options.device);
    return list;
  };
  in.x = on_device(fixture.InputList("x"));
  in.context = on_device(fixture.InputList("context"));
  in.y = on_device(fixture.InputList("y"));
  ASSIGN_OR_RETURN(in.t, fixture.Input("t"));
  in.t = in.t.to(options.device);
  ASSIGN_OR_RETURN(torch::Tensor seq_len, fixture.Input("seq_len"));
  in.seq_len = seq_len.item<int64_t>();
  if (auto it = fixture.inputs.find("clip_fea"); it != fixture.inputs.end()) in.clip_fea = it->second.to(options.device);
  RETURN_IF_ERROR(models::ValidateInputs(config, in));

  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> out = model->forward(in);
  TensorMap result;
  for (size_t i = 0; i < out.size(); ++i) result["out_" + std::to_string(i)] = out[i];
  if (with_loras) {
    // dit_lora also records merged parameters: `merged.<name>` (fp8 weights up-cast).
    const auto params = model->named_parameters(/*recurse=*/true);
    const auto modules = model->named_modules();
    for (const nlohmann::json& entry : fixture.meta.value("merged_outputs", nlohmann::json::array())) {
      const std::string name = entry.get<std::string>();
      const std::string module = name.size() > 7 ? name.substr(0, name.size() - 7) : "";
      const std::shared_ptr<torch::nn::Module>* m = modules.find(module);
      const auto* linear = m != nullptr ? (*m)->as<quant::QuantLinearImpl>() : nullptr;
      if (linear != nullptr && name == module + ".weight") {
        result["merged." + name] = linear->WeightAs(torch::kFloat32);
      } else if (const torch::Tensor* p = params.find(name); p != nullptr) {
        result["merged." + name] = p->to(torch::kFloat32);
      }
    }
  }
  return result;
}

}  // namespace videogen::verify

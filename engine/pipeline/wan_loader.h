// Making a Wan model from its files: the one loader that walks a model
// descriptor (model_family.h). It finds the files (official layout or ComfyUI
// single files, engine/io/model_dir.h), reads videogen.json
// (model_overrides.h), resolves the DiT config (config.json, videogen.json
// "dit", or the tensor shapes), describes the model, plans memory from every
// component's headers before any weight is read (model_plan.h), then loads
// each component where the plan puts it: the DiT streamed into its resident
// form (fp8 when planned), the encoders and the VAE in their planned dtype.
// Running the model is WanGenerator's (wan_generator.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/statusor.h"
#include "engine/lora/merged_source.h"
#include "engine/memory/residency.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/model_family.h"
#include "engine/pipeline/model_plan.h"
#include "engine/pipeline/wan_pipeline.h"

namespace videogen::pipeline {

struct NamedAdapterFile {
  std::string name;
  std::string path;
};

struct ModelLoadOptions {
  std::string model_dir;
  // The id requests name; "" = the directory's base name.
  std::string id;
  // The worker's device, --placement overrides and memory budgets.
  LoadPlanOptions load;
  // LoRAs merged into the DiT while it loads, in order (--lora), before any
  // fp8 quantization (engine/lora/merged_source.h). For a Wan2.2 expert pair
  // `loras` go into the high-noise expert and `loras_low_noise`
  // (--lora-low-noise) into the low-noise one: Wan2.2 LoRAs ship as such pairs.
  std::vector<lora::LoraFileSpec> loras;
  std::vector<lora::LoraFileSpec> loras_low_noise;
  // Adapters loaded at start for per-request use (--adapter NAME=PATH): read
  // against the DiT; applied as side paths when a request names them.
  std::vector<NamedAdapterFile> adapters;
};

struct LoadedModel {
  ModelDescriptor descriptor;
  // What ListModels reports: id, variant, defaults, resident bytes, the plan.
  ModelDescription description;
  WanPipelineParts parts;
  // The per-request adapters, by name.
  std::map<std::string, std::shared_ptr<const lora::LoraAdapter>> adapters;
  // What the model was planned from and the plan it was loaded with (per-request admission).
  memory::ModelHeaders headers;
  memory::Plan plan;
  // Where the weights are, kept current by every load, release and move
  // (the loaded components at load; a streamed T5 per block).
  std::shared_ptr<memory::Residency> residency;
};

// Errors: FailedPrecondition (before anything is loaded) when the model does
// not fit the budgets, saying what is short by how much; NotFound /
// InvalidArgument naming the missing or mismatched file, tensor, config key or
// placement entry; DataLoss for corrupt files; ResourceExhausted when memory
// runs out while loading. InvalidArgument("adapters: ...") for a duplicate or
// empty adapter name, or adapters for an expert pair; InvalidArgument
// ("lora_low_noise: ...") for low-noise LoRAs on a model without that expert;
// the LoRA readers' errors naming the file and key.
absl::StatusOr<LoadedModel> LoadWanModel(const ModelLoadOptions& options);

// Bytes of the parameters and buffers of `module`, grouped by dtype and device
// (1-byte floating parameters are fp8 codes).
std::vector<ResidentGroup> ResidentGroups(const torch::nn::Module& module, Component component);

}  // namespace videogen::pipeline

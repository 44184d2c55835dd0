#include "engine/pipeline/wan_loader.h"

#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/comfy_layout.h"
#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/pipeline/api/request_rules.h"
#include "engine/pipeline/model_overrides.h"
#include "engine/pipeline/offload_copy_engine.h"
#include "engine/pipeline/offload_residency.h"
#include "engine/quant/policy.h"

namespace videogen::pipeline {
namespace {

// The opened (headers only) checkpoint of each component the descriptor names.
struct ComponentSources {
  std::unique_ptr<io::TensorSource> dit, dit_low_noise, t5, clip, vae;
};

// Opens a component file of `files` under the official tensor names.
absl::StatusOr<std::unique_ptr<io::TensorSource>> OpenComponent(const io::ModelFiles& files, const std::string& path,
                                                                io::ComfyComponent component) {
  if (files.layout == io::ModelLayout::kComfyUI) return io::OpenComfyCheckpoint(path, component);
  return io::OpenCheckpoint(path);
}

// config.json, else videogen.json "dit", else inferred from the DiT's tensor
// shapes. config.json does not name the Wan version: an expert pair (or the
// Wan2.2 VAE) means Wan2.2, whose i2v DiT has no CLIP image attention.
absl::StatusOr<models::WanConfig> ResolveDitConfig(const io::ModelFiles& files, const std::string& config_path,
                                                   const ModelOverrides& overrides, const io::TensorSource& dit) {
  const bool wan22 = files.has_expert_pair() || files.vae_kind == io::VaeKind::kWan22;
  const models::WanVersion version = wan22 ? models::WanVersion::kWan22 : models::WanVersion::kWan21;
  models::WanConfig config;
  if (!config_path.empty()) {
    ASSIGN_OR_RETURN(const nlohmann::json j, ReadJsonFile(config_path));
    ASSIGN_OR_RETURN(config, models::WanConfig::FromJson(j, version));
  } else if (overrides.dit) {
    config = *overrides.dit;
  } else {
    ASSIGN_OR_RETURN(config, models::WanConfig::FromTensorShapes(dit));
  }
  if (wan22 && config.model_type != models::WanModelType::kFLF2V) config.version = models::WanVersion::kWan22;
  return config;
}

// Wan2.2 when the files or the DiT say so (expert pair, Wan2.2 VAE, a ti2v or CLIP-less i2v DiT).
absl::StatusOr<ModelDescriptor> Describe(const io::ModelFiles& files, const models::WanConfig& dit) {
  if (files.has_expert_pair() || dit.version == models::WanVersion::kWan22) {
    return DescribeWan22(dit, files.has_expert_pair());
  }
  return DescribeWan21(dit);
}

// Opens the encoders and the VAE the descriptor names (the DiT is open already).
absl::Status OpenEncoders(const io::ModelFiles& files, const ModelDescriptor& descriptor, ComponentSources& sources) {
  ASSIGN_OR_RETURN(sources.t5, OpenComponent(files, files.t5, io::ComfyComponent::kT5));
  ASSIGN_OR_RETURN(sources.vae, OpenComponent(files, files.vae, io::ComfyComponent::kVae));
  if (descriptor.image_encoder == ImageEncoderKind::kNone) return absl::OkStatus();
  if (files.clip.empty()) {
    return absl::NotFoundError(absl::StrCat("model directory ", files.dir, " holds an i2v DiT but lacks ",
                                            files.layout == io::ModelLayout::kComfyUI
                                                ? "a CLIP vision file (clip_vision_h.safetensors)"
                                                : io::kClipFile));
  }
  ASSIGN_OR_RETURN(sources.clip, OpenComponent(files, files.clip, io::ComfyComponent::kClip));
  return absl::OkStatus();
}

// What the planner reads: every component's tensors, from the headers.
memory::ModelHeaders Headers(const io::ModelFiles& files, const models::WanConfig& dit,
                             const ComponentSources& sources) {
  memory::ModelHeaders headers;
  headers.dir = files.dir;
  headers.dit_num_heads = dit.num_heads;
  headers.components.push_back({Component::kDit, files.dit, sources.dit->tensors()});
  if (sources.dit_low_noise != nullptr) {
    headers.components.push_back({Component::kDitLowNoise, files.dit_low_noise, sources.dit_low_noise->tensors()});
  }
  headers.components.push_back({Component::kT5, files.t5, sources.t5->tensors()});
  if (sources.clip != nullptr) headers.components.push_back({Component::kClip, files.clip, sources.clip->tensors()});
  headers.components.push_back({Component::kVae, files.vae, sources.vae->tensors()});
  return headers;
}

// Uninitialised parameters: the loader streams every tensor straight into its resident form.
absl::StatusOr<models::WanModel> LoadDit(const models::WanConfig& config, const io::TensorSource& source,
                                         const ComponentLoad& where) {
  models::WanModel dit{nullptr};
  RETURN_IF_ERROR(TorchCall("DiT", [&] { dit = models::WanModel(config, quant::ParamInit::kUninitialized); }));
  models::LoadOptions load;
  load.dtype = where.dtype;
  load.device = where.device;
  if (where.fp8) load.fp8 = quant::Fp8Options{};
  RETURN_IF_ERROR(models::LoadStateDict(*dit, source, load));
  return dit;
}

absl::StatusOr<std::unique_ptr<models::T5EncoderModel>> LoadT5(const io::ModelFiles& files,
                                                               const io::TensorSource& source,
                                                               const ModelOverrides& overrides,
                                                               const models::WanConfig& dit,
                                                               const ComponentLoad& where,
                                                               std::shared_ptr<const io::TensorSource> streamed,
                                                               std::shared_ptr<memory::Residency> residency) {
  models::T5EncoderModelOptions t5;
  t5.source = &source;
  t5.tokenizer_path = files.tokenizer;
  t5.dtype = where.dtype;
  t5.device = where.device;
  t5.text_len = static_cast<int>(dit.text_len);
  if (overrides.t5) t5.config = *overrides.t5;
  if (where.streamed) {
    t5.streamed_source = streamed;
    const memory::ResidentKey key{Component::kT5, Device::Cpu(),
                                  where.dtype == torch::kBFloat16 ? Precision::kBf16 : Precision::kFp32};
    t5.on_streamed_bytes = [residency, key](int64_t bytes) {
      if (bytes >= 0) {
        residency->Add(key, static_cast<uint64_t>(bytes));
      } else {
        residency->Remove(key, static_cast<uint64_t>(-bytes));
      }
    };
  }
  return models::T5EncoderModel::Create(t5);
}

absl::StatusOr<std::unique_ptr<models::vae::WanVae>> LoadVae(const io::TensorSource& source,
                                                             const ModelDescriptor& descriptor,
                                                             const ModelOverrides& overrides,
                                                             const ComponentLoad& where) {
  models::vae::WanVaeOptions vae;
  vae.device = where.device;
  vae.conv_dtype = where.dtype;  // float32 unless --placement asks for vae=...:bf16 (or fp16 on CUDA)
  if (descriptor.vae == VaeKind::kWan22) vae.config = models::vae::VaeConfig::Wan22();
  if (overrides.vae) vae.config = *overrides.vae;
  return models::vae::WanVae::Create(source, vae);
}

absl::StatusOr<std::unique_ptr<models::ClipVisual>> LoadClip(const io::TensorSource& source,
                                                            const ModelOverrides& overrides,
                                                            const ComponentLoad& where) {
  models::ClipVisualOptions clip;
  clip.source = &source;
  clip.device = where.device;
  clip.dtype = where.dtype;
  if (overrides.clip) clip.config = *overrides.clip;
  return models::ClipVisual::Create(clip);
}

// Loads every component where `plan` puts it, releasing each source once read.
// With an offload executor (plan.executed_offload), each moved or streamed
// component is adopted right after it loads, so that at most one of them is
// on the device at a time while loading.
absl::StatusOr<WanPipelineParts> LoadParts(const io::ModelFiles& files, const models::WanConfig& dit_config,
                                           const ModelDescriptor& descriptor, const ModelOverrides& overrides,
                                           ComponentSources sources, const LoadPlan& plan,
                                           const std::shared_ptr<memory::Residency>& residency) {
  WanPipelineParts parts;
  if (plan.executed_offload != OffloadMode::kNone) {
    ASSIGN_OR_RETURN(std::unique_ptr<CopyEngine> engine, MakeCopyEngine(plan.offload_device));
    ASSIGN_OR_RETURN(parts.offload, OffloadExecutor::Create(plan.executed_offload, std::move(engine), residency));
  }
  auto adopt_dit = [&](Component c, models::WanModel& dit) -> absl::Status {
    if (!plan[c].moved && !plan[c].block_streamed) return absl::OkStatus();
    return parts.offload->AdoptDit(c, *dit);
  };
  ASSIGN_OR_RETURN(parts.dit, LoadDit(dit_config, *sources.dit, plan[Component::kDit]));
  sources.dit.reset();
  RETURN_IF_ERROR(adopt_dit(Component::kDit, parts.dit));
  if (sources.dit_low_noise != nullptr) {
    ASSIGN_OR_RETURN(parts.dit_low_noise,
                     LoadDit(dit_config, *sources.dit_low_noise, plan[Component::kDitLowNoise]));
    sources.dit_low_noise.reset();
    RETURN_IF_ERROR(adopt_dit(Component::kDitLowNoise, parts.dit_low_noise));
  }
  // A streamed T5 keeps its (mapped) source; a loaded one releases it.
  std::shared_ptr<const io::TensorSource> t5_source = std::move(sources.t5);
  ASSIGN_OR_RETURN(parts.text_encoder, LoadT5(files, *t5_source, overrides, dit_config, plan[Component::kT5],
                                              plan[Component::kT5].streamed ? t5_source : nullptr, residency));
  t5_source.reset();
  if (plan[Component::kT5].moved && !parts.text_encoder->streamed()) {
    RETURN_IF_ERROR(parts.offload->AdoptEncoder(Component::kT5, parts.text_encoder->module()));
  }
  ASSIGN_OR_RETURN(parts.vae, LoadVae(*sources.vae, descriptor, overrides, plan[Component::kVae]));
  sources.vae.reset();
  if (sources.clip != nullptr) {
    ASSIGN_OR_RETURN(parts.clip, LoadClip(*sources.clip, overrides, plan[Component::kClip]));
    if (plan[Component::kClip].moved) {
      RETURN_IF_ERROR(parts.offload->AdoptEncoder(Component::kClip, parts.clip->module()));
    }
  }
  // The planner's tiles: 256x256 output pixels with a 32-pixel overlap.
  if (plan.vae_tiling) parts.vae_tile_latent_size = static_cast<int>(256 / parts.vae->config().spatial_stride());
  return parts;
}

// The per-request adapters, read against the (merged) DiT checkpoint.
absl::StatusOr<std::map<std::string, std::shared_ptr<const lora::LoraAdapter>>> ReadAdapters(
    const std::vector<NamedAdapterFile>& files, const io::TensorSource& dit) {
  std::map<std::string, std::shared_ptr<const lora::LoraAdapter>> adapters;
  for (const NamedAdapterFile& f : files) {
    if (f.name.empty() || adapters.count(f.name) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("adapters: name '", f.name, "' is empty or given twice"));
    }
    ASSIGN_OR_RETURN(adapters[f.name], lora::ReadLoraFile(f.path, dit, f.name));
  }
  return adapters;
}

// The ListModels view of a model before loading: id, variant, description, defaults.
absl::StatusOr<ModelDescription> DescribeForListing(const ModelLoadOptions& options, const io::ModelFiles& files,
                          const ModelDescriptor& descriptor, const ModelOverrides& overrides) {
  ModelDescription d;
  d.id = options.id.empty() ? std::filesystem::path(files.dir).filename().string() : options.id;
  d.type = descriptor.type;
  d.variant = overrides.variant.value_or(descriptor.variant);
  d.description = overrides.description.value_or(
      absl::StrCat(ModelFamilyName(descriptor.family), " ", d.variant, " from ", files.dir));
  const char* expert = descriptor.dit == DitLayout::kExpertPair ? " into the high-noise expert" : "";
  for (const lora::LoraFileSpec& l : options.loras) {
    absl::StrAppend(&d.description, "; LoRA ", std::filesystem::path(l.path).filename().string(), " merged at ",
                    l.strength, expert);
  }
  for (const lora::LoraFileSpec& l : options.loras_low_noise) {
    absl::StrAppend(&d.description, "; LoRA ", std::filesystem::path(l.path).filename().string(), " merged at ",
                    l.strength, " into the low-noise expert");
  }
  d.defaults = descriptor.defaults;
  overrides.ApplyTo(d.defaults);
  if (absl::Status s = CheckDefaults(d.defaults); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(files.videogen_config, ": ", s.message()));
  }
  return d;
}

std::vector<ResidentGroup> AllResidentGroups(const WanPipelineParts& parts) {
  std::vector<ResidentGroup> all;
  auto add = [&](std::vector<ResidentGroup> groups) { all.insert(all.end(), groups.begin(), groups.end()); };
  add(ResidentGroups(*parts.dit, Component::kDit));
  if (!parts.dit_low_noise.is_empty()) add(ResidentGroups(*parts.dit_low_noise, Component::kDitLowNoise));
  if (!parts.text_encoder->streamed()) add(ResidentGroups(parts.text_encoder->module(), Component::kT5));
  add(ResidentGroups(parts.vae->module(), Component::kVae));
  if (parts.clip != nullptr) add(ResidentGroups(parts.clip->module(), Component::kClip));
  return all;
}

}  // namespace

std::vector<ResidentGroup> ResidentGroups(const torch::nn::Module& module, Component component) {
  std::map<std::tuple<Precision, Device>, uint64_t> bytes;
  auto add = [&](const torch::Tensor& t) {
    if (t.defined()) bytes[{PrecisionOfTensor(t), DeviceOfTensor(t)}] += TensorBytes(t);
  };
  for (const auto& p : module.parameters()) add(p);
  for (const auto& b : module.buffers()) add(b);
  std::vector<ResidentGroup> groups;
  for (const auto& [key, n] : bytes) groups.push_back({component, std::get<0>(key), std::get<1>(key), n});
  return groups;
}

absl::StatusOr<LoadedModel> LoadWanModel(const ModelLoadOptions& options) {
  ASSIGN_OR_RETURN(const io::ModelFiles files, io::FindModelFiles(options.model_dir));
  ASSIGN_OR_RETURN(const ModelOverrides overrides, ReadModelOverrides(files.videogen_config));
  // The DiT file is opened first: without config.json its config comes from the shapes.
  ComponentSources sources;
  ASSIGN_OR_RETURN(sources.dit, OpenComponent(files, files.dit, io::ComfyComponent::kDit));
  ASSIGN_OR_RETURN(const models::WanConfig dit_config,
                   ResolveDitConfig(files, files.dit_config, overrides, *sources.dit));
  if (files.has_expert_pair()) {
    // Both experts share one config (the official pair does); the low-noise one is checked against it.
    ASSIGN_OR_RETURN(sources.dit_low_noise, OpenComponent(files, files.dit_low_noise, io::ComfyComponent::kDit));
    ASSIGN_OR_RETURN(const models::WanConfig low,
                     ResolveDitConfig(files, files.dit_low_noise_config, overrides, *sources.dit_low_noise));
    if (!low.SameArchitecture(dit_config)) {
      return absl::InvalidArgumentError(absl::StrCat(files.dit_low_noise, ": the low-noise expert's config differs "
                                                     "from the high-noise expert's (", files.dit, ")"));
    }
    if (!options.adapters.empty()) {
      return absl::InvalidArgumentError(
          "adapters: per-request adapters are not supported for Wan2.2 expert pairs yet (merge them per expert "
          "with --lora / --lora-low-noise)");
    }
    ASSIGN_OR_RETURN(sources.dit_low_noise,
                     lora::MergeLoraFiles(std::move(sources.dit_low_noise), options.loras_low_noise));
  } else if (!options.loras_low_noise.empty()) {
    return absl::InvalidArgumentError("lora_low_noise: the model has no low-noise expert (only Wan2.2 A14B pairs do)");
  }
  ASSIGN_OR_RETURN(sources.dit, lora::MergeLoraFiles(std::move(sources.dit), options.loras));
  using AdapterMap = std::map<std::string, std::shared_ptr<const lora::LoraAdapter>>;
  ASSIGN_OR_RETURN(AdapterMap adapters, ReadAdapters(options.adapters, *sources.dit));

  LoadedModel model;
  ASSIGN_OR_RETURN(model.descriptor, Describe(files, dit_config));
  ASSIGN_OR_RETURN(model.description, DescribeForListing(options, files, model.descriptor, overrides));
  // Every component is opened (headers only) and planned before any weight is read.
  RETURN_IF_ERROR(OpenEncoders(files, model.descriptor, sources));
  LoadPlanOptions load = options.load;
  for (const auto& [name, adapter] : adapters) load.reserved_host_bytes += adapter->bytes();
  model.headers = Headers(files, dit_config, sources);
  ASSIGN_OR_RETURN(const LoadPlan plan, PlanLoad(model.headers, model.description.defaults, load));
  model.residency = std::make_shared<memory::Residency>();
  ASSIGN_OR_RETURN(model.parts, LoadParts(files, dit_config, model.descriptor, overrides, std::move(sources), plan,
                                          model.residency));
  model.description.resident = AllResidentGroups(model.parts);
  for (const ResidentGroup& g : model.description.resident) {
    model.residency->Add({g.component, g.device, g.dtype}, g.bytes);
  }
  for (const auto& [name, adapter] : adapters) model.description.adapters.push_back({name, adapter->bytes()});
  model.adapters = std::move(adapters);
  model.description.plan = plan.summary;
  model.plan = plan.plan;
  return model;
}

}  // namespace videogen::pipeline

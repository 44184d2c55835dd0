#include "engine/pipeline/wan_generator.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/cuda_memory.h"
#include "engine/common/host_memory.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/comfy_layout.h"
#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"
#include "engine/models/common/state_dict.h"
#include "engine/quant/policy.h"

namespace videogen::pipeline {

const char kT2VNegativePrompt[] =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";
const char kI2VNegativePrompt[] =
    "镜头晃动，色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

namespace {

using nlohmann::json;

absl::StatusOr<json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

std::string DtypeName(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return "fp32";
    case torch::kBFloat16: return "bf16";
    case torch::kFloat16: return "fp16";
    case torch::kUInt8: return "fp8_e4m3fn";  // fp8 codes are the only uint8 parameters
    default: return c10::toString(type);
  }
}

std::string DeviceName(const torch::Device& device) {
  return device.is_cpu() ? "cpu" : device.str();
}

// The official variant names, recognised from the DiT geometry.
std::string VariantOf(const models::WanConfig& c) {
  if (c.dim == 1536 && c.num_layers == 30) return "T2V-1.3B";
  if (c.dim == 5120 && c.num_layers == 40) return c.has_image_input() ? "I2V-14B" : "T2V-14B";
  return "custom";
}

absl::Status ApplyDefaults(const json& j, GenerationDefaults& d) {
  try {
    d.width = j.value("width", d.width);
    d.height = j.value("height", d.height);
    d.max_area = j.value("max_area", d.max_area);
    d.num_frames = j.value("num_frames", d.num_frames);
    d.steps = j.value("steps", d.steps);
    d.shift = j.value("shift", d.shift);
    d.guidance_scale = j.value("guidance_scale", d.guidance_scale);
    d.fps = j.value("fps", d.fps);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("videogen.json defaults: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(const char* field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value < lo || value > hi) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be in [", lo, ", ", hi, "], got ", value));
  }
  return absl::OkStatus();
}

// Opens a component file of `files` under the official tensor names.
absl::StatusOr<std::unique_ptr<io::TensorSource>> OpenComponent(const io::ModelFiles& files, const std::string& path,
                                                                io::ComfyComponent component) {
  if (files.layout == io::ModelLayout::kComfyUI) return io::OpenComfyCheckpoint(path, component);
  return io::OpenCheckpoint(path);
}

// The WanModel kwargs of a checkpoint without config.json (ComfyUI single
// files), from its tensor shapes; head_dim 128 as in every official config.
absl::StatusOr<models::WanConfig> InferDitConfig(const io::TensorSource& source) {
  auto shape = [&](const std::string& name, size_t rank) -> absl::StatusOr<std::vector<int64_t>> {
    const io::TensorInfo* info = source.Find(name);
    if (info == nullptr || info->shape.size() != rank) {
      return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": cannot infer the DiT config: tensor '",
                                                     name, "' is missing or not of rank ", rank,
                                                     " (add a config.json)"));
    }
    return info->shape;
  };
  models::WanConfig c;
  ASSIGN_OR_RETURN(const std::vector<int64_t> patch, shape("patch_embedding.weight", 5));
  ASSIGN_OR_RETURN(const std::vector<int64_t> ffn, shape("blocks.0.ffn.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> text, shape("text_embedding.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> time, shape("time_embedding.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> head, shape("head.head.weight", 2));
  c.dim = patch[0];
  c.in_dim = patch[1];
  c.patch_size = {patch[2], patch[3], patch[4]};
  c.ffn_dim = ffn[0];
  c.text_dim = text[1];
  c.freq_dim = time[1];
  c.out_dim = head[0] / (patch[2] * patch[3] * patch[4]);
  constexpr int64_t kHeadDim = 128;
  if (c.dim % kHeadDim != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": cannot infer num_heads for dim ", c.dim,
                                                   " (not a multiple of 128; add a config.json)"));
  }
  c.num_heads = c.dim / kHeadDim;
  c.num_layers = 0;
  while (source.Find(absl::StrCat("blocks.", c.num_layers, ".self_attn.q.weight")) != nullptr) ++c.num_layers;
  c.qk_norm = source.Find("blocks.0.self_attn.norm_q.weight") != nullptr;
  c.cross_attn_norm = source.Find("blocks.0.norm3.weight") != nullptr;
  if (source.Find("img_emb.emb_pos") != nullptr) {
    c.model_type = models::WanModelType::kFLF2V;
  } else if (source.Find("img_emb.proj.0.weight") != nullptr) {
    c.model_type = models::WanModelType::kI2V;
  } else {
    c.model_type = models::WanModelType::kT2V;
  }
  return c;
}

}  // namespace

std::vector<ResidentGroup> ResidentGroups(const torch::nn::Module& module, const std::string& component) {
  std::map<std::pair<std::string, std::string>, uint64_t> bytes;
  auto add = [&](const torch::Tensor& t) {
    if (!t.defined()) return;
    bytes[{DtypeName(t.scalar_type()), DeviceName(t.device())}] += t.numel() * t.element_size();
  };
  for (const auto& p : module.parameters()) add(p);
  for (const auto& b : module.buffers()) add(b);
  std::vector<ResidentGroup> groups;
  for (const auto& [key, n] : bytes) groups.push_back({component, key.first, key.second, n});
  return groups;
}

absl::StatusOr<std::unique_ptr<WanGenerator>> WanGenerator::Create(const WanGeneratorOptions& options) {
  ASSIGN_OR_RETURN(const io::ModelFiles files, io::FindModelFiles(options.model_dir));
  json extra = json::object();
  if (!files.videogen_config.empty()) {
    ASSIGN_OR_RETURN(extra, ReadJson(files.videogen_config));
  }
  // The DiT file is opened first: without config.json its config comes from the shapes.
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> dit_source,
                   OpenComponent(files, files.dit, io::ComfyComponent::kDit));
  models::WanConfig dit_config;
  if (!files.dit_config.empty()) {
    ASSIGN_OR_RETURN(const json dit_json, ReadJson(files.dit_config));
    ASSIGN_OR_RETURN(dit_config, models::WanConfig::FromJson(dit_json));
  } else if (extra.contains("dit")) {
    ASSIGN_OR_RETURN(dit_config, models::WanConfig::FromJson(extra["dit"]));
  } else {
    ASSIGN_OR_RETURN(dit_config, InferDitConfig(*dit_source));
  }
  ModelDescription d;
  d.id = options.id.empty() ? std::filesystem::path(files.dir).filename().string() : options.id;
  d.type = dit_config.has_image_input() ? ModelType::kI2V : ModelType::kT2V;
  d.variant = extra.value("variant", VariantOf(dit_config));
  d.description = extra.value("description", absl::StrCat("Wan2.1 ", d.variant, " from ", files.dir));
  if (d.type == ModelType::kI2V) {
    d.defaults.steps = 40;  // generate.py: i2v 40 steps, shift 3.0 at 480p
    d.defaults.shift = 3.0;
    d.defaults.negative_prompt = kI2VNegativePrompt;
  } else {
    d.defaults.steps = 50;
    d.defaults.shift = 5.0;
    d.defaults.negative_prompt = kT2VNegativePrompt;
  }
  if (extra.contains("defaults")) RETURN_IF_ERROR(ApplyDefaults(extra["defaults"], d.defaults));

  // Every component file is opened (headers only) and planned before any weight is read.
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> t5_source,
                   OpenComponent(files, files.t5, io::ComfyComponent::kT5));
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> vae_source,
                   OpenComponent(files, files.vae, io::ComfyComponent::kVae));
  std::unique_ptr<io::TensorSource> clip_source;
  if (dit_config.has_image_input()) {
    if (files.clip.empty()) {
      return absl::NotFoundError(absl::StrCat("model directory ", files.dir, " holds an i2v DiT but lacks ",
                                              files.layout == io::ModelLayout::kComfyUI
                                                  ? "a CLIP vision file (clip_vision_h.safetensors)"
                                                  : io::kClipFile));
    }
    ASSIGN_OR_RETURN(clip_source, OpenComponent(files, files.clip, io::ComfyComponent::kClip));
  }
  memory::ModelHeaders headers;
  headers.dir = files.dir;
  headers.dit_num_heads = dit_config.num_heads;
  headers.components.push_back({memory::Component::kDit, files.dit, dit_source->tensors()});
  headers.components.push_back({memory::Component::kT5, files.t5, t5_source->tensors()});
  if (clip_source != nullptr) headers.components.push_back({memory::Component::kClip, files.clip, clip_source->tensors()});
  headers.components.push_back({memory::Component::kVae, files.vae, vae_source->tensors()});
  ASSIGN_OR_RETURN(const LoadPlan plan, PlanLoad(headers, d.defaults, options.load));

  WanPipelineParts parts;
  // Uninitialised parameters: the loader streams every tensor straight into its resident form.
  RETURN_IF_ERROR(TorchCall("DiT", [&] { parts.dit = models::WanModel(dit_config, quant::ParamInit::kUninitialized); }));
  {
    const ComponentLoad& where = plan[memory::Component::kDit];
    models::LoadOptions load;
    load.dtype = where.dtype;
    load.device = where.device;
    if (where.fp8) load.fp8 = quant::Fp8Options{};
    RETURN_IF_ERROR(models::LoadStateDict(*parts.dit, *dit_source, load));
    dit_source.reset();
  }

  models::T5EncoderModelOptions t5;
  t5.source = t5_source.get();
  t5.tokenizer_path = files.tokenizer;
  t5.dtype = plan[memory::Component::kT5].dtype;
  t5.device = plan[memory::Component::kT5].device;
  t5.text_len = static_cast<int>(dit_config.text_len);
  if (extra.contains("t5")) {
    ASSIGN_OR_RETURN(t5.config, models::T5Config::FromJson(extra["t5"]));
  }
  ASSIGN_OR_RETURN(parts.text_encoder, models::T5EncoderModel::Create(t5));
  t5_source.reset();

  models::vae::WanVaeOptions vae;
  vae.device = plan[memory::Component::kVae].device;
  if (extra.contains("vae")) {
    ASSIGN_OR_RETURN(vae.config, models::vae::VaeConfig::FromJson(extra["vae"]));
  }
  ASSIGN_OR_RETURN(parts.vae, models::vae::WanVae::Create(*vae_source, vae));
  vae_source.reset();

  if (clip_source != nullptr) {
    models::ClipVisualOptions clip;
    clip.source = clip_source.get();
    clip.device = plan[memory::Component::kClip].device;
    clip.dtype = plan[memory::Component::kClip].dtype;
    if (extra.contains("clip")) {
      ASSIGN_OR_RETURN(clip.config, models::ClipVisionConfig::FromJson(extra["clip"]));
    }
    ASSIGN_OR_RETURN(parts.clip, models::ClipVisual::Create(clip));
  }

  for (auto groups : {ResidentGroups(*parts.dit, "dit"), ResidentGroups(parts.text_encoder->module(), "t5"),
                      ResidentGroups(parts.vae->module(), "vae")}) {
    d.resident.insert(d.resident.end(), groups.begin(), groups.end());
  }
  if (parts.clip != nullptr) {
    const auto groups = ResidentGroups(parts.clip->module(), "clip");
    d.resident.insert(d.resident.end(), groups.begin(), groups.end());
  }
  d.plan = plan.summary;

  ASSIGN_OR_RETURN(std::unique_ptr<WanPipeline> pipe, WanPipeline::Create(std::move(parts)));
  return std::unique_ptr<WanGenerator>(new WanGenerator(std::move(pipe), std::move(d), options.load.device));
}

WanGenerator::WanGenerator(std::unique_ptr<WanPipeline> pipeline, ModelDescription description, torch::Device device)
    : pipeline_(std::move(pipeline)), description_(std::move(description)), device_(device) {}

absl::Status WanGenerator::Validate(const GenerationRequest& request) const {
  return ToPipelineRequest(request).status();
}

absl::StatusOr<PipelineRequest> WanGenerator::ToPipelineRequest(const GenerationRequest& r) const {
  const GenerationDefaults& d = description_.defaults;
  PipelineRequest p;
  p.prompt = r.prompt;
  p.negative_prompt = r.negative_prompt.value_or(d.negative_prompt);
  p.num_frames = r.num_frames.value_or(d.num_frames);
  p.denoise.steps = r.steps.value_or(d.steps);
  p.denoise.shift = r.shift.value_or(d.shift);
  p.denoise.guidance_scale = r.guidance_scale.value_or(d.guidance_scale);
  switch (r.sampler.value_or(d.sampler)) {
    case Sampler::kUniPC: p.denoise.sampler = schedulers::SamplerKind::kUniPC; break;
    case Sampler::kDpmPP: p.denoise.sampler = schedulers::SamplerKind::kDpmPP; break;
    case Sampler::kEuler: p.denoise.sampler = schedulers::SamplerKind::kEuler; break;
  }
  p.seed = r.seed;
  if (p.denoise.steps < 1) return absl::InvalidArgumentError(absl::StrCat("steps must be >= 1, got ", p.denoise.steps));
  RETURN_IF_ERROR(CheckRange("guidance_scale", p.denoise.guidance_scale, 0.0, 1e6));
  if (!std::isfinite(p.denoise.shift) || p.denoise.shift <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("shift must be finite and > 0, got ", p.denoise.shift));
  }
  if (description_.type == ModelType::kT2V) {
    if (r.image.has_value()) return absl::InvalidArgumentError("image: not accepted by a t2v model");
    p.width = r.width.value_or(d.width);
    p.height = r.height.value_or(d.height);
  } else {
    if (!r.image.has_value()) return absl::InvalidArgumentError("image: required by an i2v model");
    const RgbImage& img = *r.image;
    if (img.width <= 0 || img.height <= 0 ||
        img.rgb.size() != static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3) {
      return absl::InvalidArgumentError("image: pixel buffer does not match its size");
    }
    p.max_area = r.max_area.value_or(r.width && r.height ? int64_t{*r.width} * *r.height : d.max_area);
    p.image = torch::from_blob(const_cast<uint8_t*>(img.rgb.data()), {img.height, img.width, 3}, torch::kUInt8);
  }
  RETURN_IF_ERROR(pipeline_->Geometry(p).status());
  return p;
}

absl::StatusOr<GeneratedVideo> WanGenerator::Generate(const GenerationRequest& request, ProgressSink* progress,
                                                      const CancelToken& cancel) {
  const c10::InferenceMode inference_mode;  // thread-local: the worker's thread
  ASSIGN_OR_RETURN(const PipelineRequest p, ToPipelineRequest(request));
  ASSIGN_OR_RETURN(const torch::Tensor video, pipeline_->Run(p, progress, &cancel));
  ASSIGN_OR_RETURN(const torch::Tensor frames, TorchCall("frames", [&] { return VideoToFramesU8(video.cpu()); }));
  GeneratedVideo out;
  out.frames = static_cast<int>(frames.size(0));
  out.height = static_cast<int>(frames.size(1));
  out.width = static_cast<int>(frames.size(2));
  out.fps = description_.defaults.fps;
  out.seed = request.seed;
  const uint8_t* data = frames.data_ptr<uint8_t>();
  out.rgb.assign(data, data + frames.numel());
  return out;
}

std::vector<DeviceMemoryStats> WanGenerator::DeviceMemory() const {
  std::vector<DeviceMemoryStats> out;
  if (device_.is_cuda()) {
    if (auto cuda = QueryCudaMemory(device_.has_index() ? device_.index() : 0); cuda.ok()) {
      out.push_back({DeviceName(device_), cuda->used, cuda->total, cuda->peak});
    }
  }
  out.push_back({"cpu", ProcessRssBytes(), HostMemoryLimitBytes(), ProcessPeakRssBytes()});
  return out;
}

void WanGenerator::ReleaseCachedMemory() {
  if (device_.is_cuda()) ReleaseCudaCache();
}

}  // namespace videogen::pipeline

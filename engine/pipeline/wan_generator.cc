#include "engine/pipeline/wan_generator.h"

#include <utility>

#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/cuda_memory.h"
#include "engine/common/host_memory.h"
#include "engine/common/huge_page_allocator.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/pipeline/api/request_rules.h"
#include "engine/pipeline/flf2v_conditioning.h"
#include "engine/pipeline/ti2v_conditioning.h"

namespace videogen::pipeline {
namespace {

schedulers::SamplerKind ToSamplerKind(Sampler sampler) {
  switch (sampler) {
    case Sampler::kUniPC: return schedulers::SamplerKind::kUniPC;
    case Sampler::kDpmPP: return schedulers::SamplerKind::kDpmPP;
    case Sampler::kEuler: return schedulers::SamplerKind::kEuler;
    case Sampler::kStepDistill: return schedulers::SamplerKind::kStepDistill;
  }
  return schedulers::SamplerKind::kUniPC;
}

int CudaIndex(const torch::Device& device) { return device.has_index() ? device.index() : 0; }

// The i2v/flf2v output area: max_area, else width x height, else the default.
int64_t MaxArea(const GenerationRequest& r, const GenerationDefaults& d) {
  return r.max_area.value_or(r.width && r.height ? int64_t{*r.width} * *r.height : d.max_area);
}

// A uint8 [H, W, 3] view of `image` (no copy: `image` must outlive it).
torch::Tensor ViewRgb(const RgbImage& image) {
  return torch::from_blob(const_cast<uint8_t*>(image.rgb.data()), {image.height, image.width, 3}, torch::kUInt8);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WanGenerator>> WanGenerator::Create(const ModelLoadOptions& options) {
  ASSIGN_OR_RETURN(LoadedModel model, LoadWanModel(options));
  ASSIGN_OR_RETURN(std::unique_ptr<WanPipeline> pipe, WanPipeline::Create(std::move(model.parts)));
  models::WanModel dit = pipe->parts().dit;  // a handle on the shared module
  auto side_paths = std::make_unique<lora::SidePathTargets>(*dit);
  for (const auto& [name, adapter] : model.adapters) RETURN_IF_ERROR(side_paths->CheckServable(*adapter));
  RequestAdmission admission(std::move(model.headers), std::move(model.plan));
  model.description.admitted = admission.Limits(model.description.defaults);
  return std::unique_ptr<WanGenerator>(new WanGenerator(
      std::move(pipe), std::move(model.descriptor), std::move(model.description), options.load.device,
      std::move(model.adapters), std::move(side_paths), std::move(admission), std::move(model.residency)));
}

WanGenerator::WanGenerator(std::unique_ptr<WanPipeline> pipeline, ModelDescriptor descriptor,
                           ModelDescription description, torch::Device device, AdapterMap adapters,
                           std::unique_ptr<lora::SidePathTargets> side_paths, RequestAdmission admission,
                           std::shared_ptr<const memory::Residency> residency)
    : pipeline_(std::move(pipeline)),
      descriptor_(std::move(descriptor)),
      description_(std::move(description)),
      device_(device),
      adapters_(std::move(adapters)),
      side_paths_(std::move(side_paths)),
      admission_(std::move(admission)),
      residency_(std::move(residency)) {}

std::vector<ResidentGroup> WanGenerator::ResidentNow() const {
  std::vector<ResidentGroup> out;
  for (const memory::ResidentEntry& e : residency_->Entries()) {
    out.push_back({e.key.component, e.key.precision, e.key.device, e.bytes});
  }
  return out;
}

absl::Status WanGenerator::Validate(const GenerationRequest& request) const {
  RETURN_IF_ERROR(CheckRequestRules(request, description_.type));
  for (const AdapterUse& use : request.adapters) {
    if (adapters_.count(use.name) != 0) continue;
    std::vector<std::string> names;
    for (const auto& [name, adapter] : adapters_) names.push_back(name);
    return absl::InvalidArgumentError(absl::StrCat("adapters: unknown adapter '", use.name, "' (loaded: ",
                                                   names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  ASSIGN_OR_RETURN(const LatentGeometry geometry, Geometry(request));
  return admission_.Admit(geometry, RunsCfg(request, description_.defaults), request.image ? "max_area" : "width");
}

absl::StatusOr<LatentGeometry> WanGenerator::Geometry(const GenerationRequest& r) const {
  const GenerationDefaults& d = description_.defaults;
  const int64_t frames = r.num_frames.value_or(d.num_frames);
  if (descriptor_.pipeline == PipelineKind::kTextToVideo ||
      (descriptor_.pipeline == PipelineKind::kTextImageToVideo && !r.image)) {
    return TextToVideoGeometry(r.width.value_or(d.width), r.height.value_or(d.height), frames,
                               descriptor_.latent.patch, descriptor_.latent.vae_stride[1]);
  }
  const int64_t max_area = MaxArea(r, d);
  if (descriptor_.pipeline == PipelineKind::kTextImageToVideo) {
    return TextImageToVideoGeometry(r.image->width, r.image->height, max_area, frames, descriptor_.latent.patch);
  }
  if (descriptor_.pipeline == PipelineKind::kFirstLastFrameToVideo) {
    return FirstLastFrameGeometry(r.image->width, r.image->height, max_area, frames, descriptor_.latent.patch);
  }
  return ImageToVideoGeometry(r.image->width, r.image->height, max_area, frames, descriptor_.latent.patch);
}

PipelineRequest WanGenerator::ToPipelineRequest(const GenerationRequest& r) const {
  const GenerationDefaults& d = description_.defaults;
  PipelineRequest p;
  p.prompt = r.prompt;
  p.negative_prompt = r.negative_prompt.value_or(d.negative_prompt);
  p.num_frames = r.num_frames.value_or(d.num_frames);
  p.denoise.shift = r.shift.value_or(d.shift);
  p.denoise.guidance_scale = r.guidance_scale.value_or(d.guidance_scale);
  if (descriptor_.dit == DitLayout::kExpertPair) {
    // The official (low, high) pair; a request's single scale sets both.
    p.denoise.experts = ExpertSwitch{d.expert_boundary * kNumTrainTimesteps,
                                     r.guidance_scale.value_or(d.guidance_scale_high_noise.value_or(d.guidance_scale))};
  }
  // An explicit timestep list (the request's, else the model's when the
  // request keeps its sampler) means the step-distill sampler, one step each.
  const Sampler sampler = !r.timesteps.empty() ? Sampler::kStepDistill : r.sampler.value_or(d.sampler);
  if (sampler == Sampler::kStepDistill) {
    p.denoise.timesteps = !r.timesteps.empty() ? r.timesteps : (r.steps ? std::vector<int>{} : d.timesteps);
  }
  p.denoise.steps = !p.denoise.timesteps.empty() ? static_cast<int>(p.denoise.timesteps.size())
                                                 : r.steps.value_or(d.steps);
  p.denoise.sampler = ToSamplerKind(sampler);
  p.seed = r.seed;
  if (descriptor_.pipeline == PipelineKind::kTextToVideo || !r.image) {
    p.width = r.width.value_or(d.width);
    p.height = r.height.value_or(d.height);
  } else {
    p.max_area = MaxArea(r, d);
    p.image = ViewRgb(*r.image);
    if (r.last_image) p.last_image = ViewRgb(*r.last_image);
  }
  return p;
}

absl::StatusOr<GeneratedVideo> WanGenerator::Generate(const GenerationRequest& request, ProgressSink* progress,
                                                      const CancelToken& cancel) {
  RETURN_IF_ERROR(Validate(request));
  ASSIGN_OR_RETURN(const PipelineRequest p, TorchCall("request", [&] { return ToPipelineRequest(request); }));
  // Adapters are side paths for this request only; a request without any
  // runs the base weights untouched.
  const bool with_adapters = !request.adapters.empty();
  if (with_adapters) {
    std::vector<lora::AppliedLora> adapters;
    for (const AdapterUse& use : request.adapters) adapters.push_back({adapters_.at(use.name), use.strength});
    RETURN_IF_ERROR(side_paths_->Apply(adapters));
  }
  absl::StatusOr<torch::Tensor> run = pipeline_->Run(p, progress, &cancel);
  if (with_adapters) side_paths_->Clear();  // the next request starts from the base weights
  ASSIGN_OR_RETURN(const torch::Tensor video, std::move(run));
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
    if (auto cuda = QueryCudaMemory(CudaIndex(device_)); cuda.ok()) {
      out.push_back({Device::Cuda(CudaIndex(device_)), cuda->used, cuda->total, cuda->peak});
    }
  }
  out.push_back({Device::Cpu(), ProcessRssBytes(), HostMemoryLimitBytes(), ProcessPeakRssBytes()});
  return out;
}

void WanGenerator::ReleaseCachedMemory() {
  if (device_.is_cuda()) ReleaseCudaCache();
  ReleaseHugePageCache();  // host blocks kept for reuse (CPU activations, staging)
}

void WanGenerator::RunWorkerLoop(const std::function<void()>& loop) {
  const c10::InferenceMode inference_mode;  // thread-local: entered once per worker thread
  const c10::OptionalDeviceGuard device_guard(device_.is_cuda() ? c10::optional<c10::Device>(device_)
                                                                : c10::nullopt);
  loop();
}

}  // namespace videogen::pipeline

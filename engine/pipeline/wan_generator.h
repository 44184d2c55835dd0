// WanGenerator: a VideoGenerator over a loaded Wan2.1 model (wan_loader.h
// makes it from a model directory): validates requests, runs them through
// the pipeline, reports device memory.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/lora/side_paths.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/conditioning.h"
#include "engine/pipeline/model_family.h"
#include "engine/pipeline/request_admission.h"
#include "engine/pipeline/wan_loader.h"
#include "engine/pipeline/wan_pipeline.h"

namespace videogen::pipeline {

// Thread safety: as VideoGenerator (Generate by one thread at a time).
class WanGenerator final : public VideoGenerator {
 public:
  // Loads the model (LoadWanModel, with its errors) and builds its pipeline;
  // InvalidArgument naming an adapter that cannot run as a side path.
  static absl::StatusOr<std::unique_ptr<WanGenerator>> Create(const ModelLoadOptions& options);

  const ModelDescription& description() const override { return description_; }
  const ModelDescriptor& descriptor() const { return descriptor_; }
  // The model rules (api/request_rules.h), the request's latent geometry with
  // the model's defaults applied, and per-request admission against the memory
  // plan (request_admission.h). Arithmetic only: no LibTorch call.
  absl::Status Validate(const GenerationRequest& request) const override;
  absl::StatusOr<GeneratedVideo> Generate(const GenerationRequest& request, ProgressSink* progress,
                                          const CancelToken& cancel) override;
  // The model's device (cuda: driver + caching allocator figures) and the host
  // (process RSS, its peak, and the memory limit).
  std::vector<DeviceMemoryStats> DeviceMemory() const override;
  void ReleaseCachedMemory() override;
  // Enters c10::InferenceMode and the model device's guard on the worker thread.
  void RunWorkerLoop(const std::function<void()>& loop) override;

  const WanPipeline& pipeline() const { return *pipeline_; }
  // The weights resident now, from the residency account (a streamed T5
  // counts only while one of its blocks is loaded).
  std::vector<ResidentGroup> ResidentNow() const override;
  // The account itself: current bytes and peaks per component and device.
  const memory::Residency& residency() const { return *residency_; }

 private:
  using AdapterMap = std::map<std::string, std::shared_ptr<const lora::LoraAdapter>>;
  WanGenerator(std::unique_ptr<WanPipeline> pipeline, ModelDescriptor descriptor, ModelDescription description,
               torch::Device device, AdapterMap adapters, std::unique_ptr<lora::SidePathTargets> side_paths,
               RequestAdmission admission, std::shared_ptr<const memory::Residency> residency);

  // The latent geometry of `request` with the defaults applied.
  absl::StatusOr<LatentGeometry> Geometry(const GenerationRequest& request) const;
  // The pipeline request of a validated request (defaults applied); the image
  // is viewed, not copied, so `request` must outlive the result.
  PipelineRequest ToPipelineRequest(const GenerationRequest& request) const;

  // Constant after construction.
  const std::unique_ptr<WanPipeline> pipeline_;
  const ModelDescriptor descriptor_;
  const ModelDescription description_;
  const torch::Device device_;
  const AdapterMap adapters_;
  // The DiT's linear layers; mutated only by Generate (one request at a time).
  const std::unique_ptr<lora::SidePathTargets> side_paths_;
  const RequestAdmission admission_;
  const std::shared_ptr<const memory::Residency> residency_;
};

}  // namespace videogen::pipeline

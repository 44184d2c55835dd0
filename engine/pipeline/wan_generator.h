// WanGenerator: a VideoGenerator over a Wan2.1 model directory (the official
// layout or ComfyUI single files, see engine/io/model_dir.h), holding every
// component resident.
//
// videogen.json (optional, beside config.json) describes models whose
// encoders are not the official sizes, such as the embedded tiny model:
//   {"variant": "tiny", "description": "...",
//    "t5": {T5Encoder kwargs}, "clip": {XLMRobertaCLIP kwargs}, "vae": {WanVAE_ kwargs},
//    "dit": {WanModel kwargs: used only without config.json (ComfyUI files),
//            where the DiT config is otherwise inferred from the tensor shapes
//            with head_dim 128},
//    "defaults": {"width": .., "height": .., "max_area": .., "num_frames": ..,
//                 "steps": .., "shift": .., "guidance_scale": .., "fps": ..}}
// Absent keys take the official presets (umT5-XXL, ViT-H/14, Wan2.1 VAE) and
// the defaults of wan/configs and generate.py.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/model_plan.h"
#include "engine/pipeline/wan_pipeline.h"

namespace videogen::pipeline {

// The official default negative prompts (wan/configs shared_config.sample_neg_prompt;
// the i2v pipeline prepends "镜头晃动，").
extern const char kT2VNegativePrompt[];
extern const char kI2VNegativePrompt[];

struct WanGeneratorOptions {
  std::string model_dir;
  // The id requests name; "" = the directory's base name.
  std::string id;
  // The worker's device, --placement overrides and memory budgets. Each
  // component is loaded where the memory plan (engine/memory/planner.h) puts
  // it, in its precision (the DiT in fp8 when the plan says so).
  LoadPlanOptions load;
};

// Thread safety: as VideoGenerator (Generate by one thread at a time).
class WanGenerator final : public VideoGenerator {
 public:
  // Plans memory from the checkpoint headers, then loads every component.
  // FailedPrecondition (before anything is loaded) when the model does not fit
  // the budgets, saying what is short by how much; NotFound / InvalidArgument
  // naming the missing or mismatched file, tensor or placement entry; DataLoss
  // for corrupt files; ResourceExhausted when memory runs out.
  static absl::StatusOr<std::unique_ptr<WanGenerator>> Create(const WanGeneratorOptions& options);

  const ModelDescription& description() const override { return description_; }
  absl::Status Validate(const GenerationRequest& request) const override;
  absl::StatusOr<GeneratedVideo> Generate(const GenerationRequest& request, ProgressSink* progress,
                                          const CancelToken& cancel) override;
  // The model's device (cuda: driver + caching allocator figures) and the host
  // (process RSS, its peak, and the memory limit).
  std::vector<DeviceMemoryStats> DeviceMemory() const override;
  void ReleaseCachedMemory() override;

  const WanPipeline& pipeline() const { return *pipeline_; }

 private:
  WanGenerator(std::unique_ptr<WanPipeline> pipeline, ModelDescription description, torch::Device device);

  // The pipeline request for a validated generation request (defaults applied).
  absl::StatusOr<PipelineRequest> ToPipelineRequest(const GenerationRequest& request) const;

  // Constant after construction.
  const std::unique_ptr<WanPipeline> pipeline_;
  const ModelDescription description_;
  const torch::Device device_;
};

// Bytes of the parameters and buffers of `module`, grouped by dtype.
std::vector<ResidentGroup> ResidentGroups(const torch::nn::Module& module, const std::string& component);

}  // namespace videogen::pipeline

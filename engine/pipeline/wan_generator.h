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
  // Where every component lives and computes. On CPU everything is float32.
  torch::Device device = torch::kCPU;
  // Parameter dtype of the DiT and the T5 encoder (float32 or bfloat16);
  // CLIP and VAE stay float32.
  torch::ScalarType dit_dtype = torch::kFloat32;
  torch::ScalarType t5_dtype = torch::kFloat32;
};

// Thread safety: as VideoGenerator (Generate by one thread at a time).
class WanGenerator final : public VideoGenerator {
 public:
  // Loads every component. NotFound / InvalidArgument naming the missing or
  // mismatched file or tensor; DataLoss for corrupt files; ResourceExhausted
  // when memory runs out.
  static absl::StatusOr<std::unique_ptr<WanGenerator>> Create(const WanGeneratorOptions& options);

  const ModelDescription& description() const override { return description_; }
  absl::Status Validate(const GenerationRequest& request) const override;
  absl::StatusOr<GeneratedVideo> Generate(const GenerationRequest& request, ProgressSink* progress,
                                          const CancelToken& cancel) override;
  std::vector<DeviceMemoryStats> DeviceMemory() const override;

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

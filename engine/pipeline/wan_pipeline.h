// WanPipeline: the official generate() of wan/text2video.py (WanT2V) and
// wan/image2video.py (WanI2V), step by step, over loaded components.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"
#include "engine/models/clip/clip_visual.h"
#include "engine/models/dit/model.h"
#include "engine/models/t5/t5_encoder_model.h"
#include "engine/models/vae/wan_vae.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/conditioning.h"
#include "engine/pipeline/denoise.h"

namespace videogen::pipeline {

// The loaded components. The DiT's model_type decides t2v or i2v; i2v needs `clip`.
struct WanPipelineParts {
  models::WanModel dit{nullptr};
  std::unique_ptr<models::T5EncoderModel> text_encoder;
  std::unique_ptr<models::vae::WanVae> vae;
  std::unique_ptr<models::ClipVisual> clip;  // i2v only
};

// One run; every field is explicit (defaults are applied by the generator).
struct PipelineRequest {
  std::string prompt;
  std::string negative_prompt;
  int64_t num_frames = 81;
  int64_t width = 832;    // t2v
  int64_t height = 480;   // t2v
  int64_t max_area = 832 * 480;  // i2v
  torch::Tensor image;    // i2v: uint8 [H0, W0, 3] RGB
  DenoiseOptions denoise;
  // The initial noise [16, T, h, w]; when undefined it is drawn from a CPU
  // generator seeded with `seed` (torch.Generator('cpu').manual_seed(seed)).
  torch::Tensor noise;
  uint64_t seed = 0;
};

// Intermediate tensors of one run (what the pipeline fixtures record).
struct PipelineTrace {
  LatentGeometry geometry;
  torch::Tensor context;        // [L, text_dim]
  torch::Tensor context_null;
  torch::Tensor clip_fea;       // i2v: [1, N, 1280]
  torch::Tensor y;              // i2v: [20, T, h, w]
  torch::Tensor vae_cond_video; // i2v: [3, F, H, W]
  DenoiseTrace denoise;
};

// Thread safety: Run() may be called by one thread at a time (the models are
// shared, the scheduler is per call).
class WanPipeline {
 public:
  // InvalidArgument when a component is missing (naming it) or the parts do
  // not fit together (T5 width != DiT text_dim, VAE z_dim != DiT in/out dims).
  static absl::StatusOr<std::unique_ptr<WanPipeline>> Create(WanPipelineParts parts);

  ModelType type() const { return type_; }
  const models::WanConfig& dit_config() const { return parts_.dit->config(); }
  const WanPipelineParts& parts() const { return parts_; }

  // The latent geometry of a request (InvalidArgument naming the field).
  absl::StatusOr<LatentGeometry> Geometry(const PipelineRequest& request) const;

  // Returns the video [3, F, H, W] float32 in [-1, 1]. Progress goes to
  // `progress` (may be null) per stage and per denoising step; `cancel` is
  // checked between steps and VAE chunks. Errors: InvalidArgument naming the
  // request field; Cancelled / DeadlineExceeded; ResourceExhausted on
  // out-of-memory; Internal otherwise.
  absl::StatusOr<torch::Tensor> Run(const PipelineRequest& request, ProgressSink* progress,
                                    const CancelToken* cancel, PipelineTrace* trace = nullptr) const;

 private:
  explicit WanPipeline(WanPipelineParts parts);

  // Constant after construction.
  WanPipelineParts parts_;
  ModelType type_;
};

}  // namespace videogen::pipeline

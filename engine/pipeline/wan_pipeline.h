// WanPipeline: the official generate() of wan/text2video.py (WanT2V),
// wan/image2video.py (WanI2V) and wan/first_last_frame2video.py (WanFLF2V)
// of Wan2.1, and of Wan2.2's text2video.py / image2video.py (A14B: the same
// flows with a high/low-noise expert pair; I2V-A14B without CLIP) and
// textimage2video.py (TI2V-5B: 48-channel latents; an optional image becomes
// latent frame 0), step by step, over loaded components. They differ only in
// the image conditioning (conditioning.h, flf2v_conditioning.h,
// ti2v_conditioning.h) and in which DiT runs a step (denoise.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"
#include "engine/memory/planner.h"
#include "engine/models/clip/clip_visual.h"
#include "engine/models/dit/model.h"
#include "engine/models/t5/t5_encoder_model.h"
#include "engine/models/vae/wan_vae.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/conditioning.h"
#include "engine/pipeline/denoise.h"
#include "engine/pipeline/model_family.h"
#include "engine/pipeline/text_embedding_cache.h"
#include "engine/pipeline/offload_executor.h"

namespace videogen::pipeline {

// The loaded components. The DiT's model_type decides the pipeline
// (PipelineKindOf); Wan2.1 i2v and flf2v need `clip`.
struct WanPipelineParts {
  models::WanModel dit{nullptr};            // the DiT, or an A14B pair's high-noise expert
  models::WanModel dit_low_noise{nullptr};  // A14B only: the low-noise expert (same config)
  std::unique_ptr<models::T5EncoderModel> text_encoder;
  std::unique_ptr<models::vae::WanVae> vae;
  std::unique_ptr<models::ClipVisual> clip;  // Wan2.1 i2v and flf2v only
  // Decode in spatial tiles of this many latent pixels (the memory plan's VAE
  // tiling); 0 = whole frames.
  int vae_tile_latent_size = 0;
  // The memory plan's offload mode at work (offload_executor.h): moves weights
  // on and off the device per phase of Run. Null: everything stays where it
  // was loaded. Last member: destroyed before the modules it moves.
  std::shared_ptr<OffloadExecutor> offload;
};

// One run; every field is explicit (defaults are applied by the generator).
struct PipelineRequest {
  std::string prompt;
  std::string negative_prompt;
  int64_t num_frames = 81;
  int64_t width = 832;    // t2v
  int64_t height = 480;   // t2v
  int64_t max_area = 832 * 480;  // i2v, flf2v, ti2v with an image
  // i2v: the image; flf2v: the first frame; ti2v: optional (undefined: text
  // only, output size width x height). uint8 [H0, W0, 3] RGB.
  torch::Tensor image;
  torch::Tensor last_image;  // flf2v: the last frame, uint8 [Hl, Wl, 3] RGB (any size: see CropLastFrame)
  // Expert-pair models need denoise.experts (their boundary and high-noise guidance).
  DenoiseOptions denoise;
  // The initial noise [C, T, h, w]; when undefined it is drawn from a CPU
  // generator seeded with `seed` (torch.Generator('cpu').manual_seed(seed)).
  torch::Tensor noise;
  uint64_t seed = 0;
};

// Intermediate tensors of one run (what the pipeline fixtures record).
struct PipelineTrace {
  LatentGeometry geometry;
  torch::Tensor context;        // [L, text_dim]
  torch::Tensor context_null;
  torch::Tensor clip_pixel_values;  // i2v: [1, 3, S, S]; flf2v: [2, 3, S, S] (first, last)
  torch::Tensor clip_fea;           // i2v: [1, N, 1280]; flf2v: [2, 257, 1280]
  torch::Tensor y;                  // i2v, flf2v: [20, T, h, w]
  torch::Tensor vae_cond_video;     // i2v, flf2v: [3, F, H, W]
  torch::Tensor image_cond;         // ti2v with an image: [3, 1, oh, ow]
  torch::Tensor z_image;            // ti2v with an image: [48, 1, h, w]
  std::vector<torch::Tensor> dit_timesteps;  // ti2v: per step, the DiT's t [1, seq_len]
  DenoiseTrace denoise;
};

// Bytes of T5 contexts a pipeline keeps for reuse (TextEmbeddingCache), on
// the CPU: the planner's figure, counted in every plan's host peak.
inline constexpr int64_t kTextEmbeddingCacheBytes = static_cast<int64_t>(memory::kTextEmbeddingCacheBytes);

// Thread safety: Run() may be called by one thread at a time (the models are
// shared, the scheduler is per call).
class WanPipeline {
 public:
  // InvalidArgument when a component is missing (naming it) or the parts do
  // not fit together (T5 width != DiT text_dim, VAE z_dim != DiT in/out dims,
  // flf2v: CLIP tokens per image != 257, experts of different configs).
  static absl::StatusOr<std::unique_ptr<WanPipeline>> Create(WanPipelineParts parts);

  PipelineKind kind() const { return kind_; }
  const models::WanConfig& dit_config() const { return parts_.dit->config(); }
  bool has_expert_pair() const { return !parts_.dit_low_noise.is_empty(); }
  const WanPipelineParts& parts() const { return parts_; }

  // The latent geometry of a request (InvalidArgument naming the field;
  // flf2v: `num_frames` other than 81, a missing `image` or `last_image`).
  // ti2v: from the image when there is one, else from width x height.
  absl::StatusOr<LatentGeometry> Geometry(const PipelineRequest& request) const;

  // Returns the video [3, F, H, W] float32 in [-1, 1]. Progress goes to
  // `progress` (may be null) per stage and per denoising step; `cancel` is
  // checked between steps and VAE chunks and before every T5, CLIP and VAE
  // residual block (cancel_point.h). Errors: InvalidArgument naming the
  // request field; Cancelled / DeadlineExceeded; ResourceExhausted on
  // out-of-memory; Internal otherwise.
  absl::StatusOr<torch::Tensor> Run(const PipelineRequest& request, ProgressSink* progress,
                                    const CancelToken* cancel, PipelineTrace* trace = nullptr) const;

 private:
  struct ImageCondition {
    torch::Tensor clip_fea;  // [N_images, N, 1280]
    torch::Tensor y;         // [20, T, lat_h, lat_w]
  };

  explicit WanPipeline(WanPipelineParts parts);

  // parts_.offload->Enter(phase, expert) when there is an executor.
  absl::Status EnterOffloadPhase(OffloadPhase phase, Expert expert = Expert::kSingle) const;

  // ti2v with an image: z = VAE.encode(the resized, cropped image) [48, 1, h, w].
  absl::StatusOr<torch::Tensor> EncodeFirstFrame(const PipelineRequest& request, const LatentGeometry& geometry,
                                                 ProgressSink* progress, const CancelToken* cancel,
                                                 PipelineTrace* trace) const;

  // i2v / flf2v: CLIP features (Wan2.1) and y = [mask, VAE(condition video)].
  absl::StatusOr<ImageCondition> EncodeImages(const PipelineRequest& request, const LatentGeometry& geometry,
                                              ProgressSink* progress, const CancelToken* cancel,
                                              PipelineTrace* trace) const;

  // Constant after construction.
  WanPipelineParts parts_;
  PipelineKind kind_;
  // T5 contexts of recent texts (the default negative prompt above all);
  // internally synchronised.
  std::unique_ptr<TextEmbeddingCache> text_cache_;
};

}  // namespace videogen::pipeline

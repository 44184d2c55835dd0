#include "engine/pipeline/wan_pipeline.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/cancel_point.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/pipeline/flf2v_conditioning.h"
#include "engine/pipeline/ti2v_conditioning.h"

namespace videogen::pipeline {
namespace {

void Report(ProgressSink* sink, Stage stage, int step, int total, Expert expert = Expert::kSingle) {
  if (sink != nullptr) sink->OnProgress({stage, step, total, expert});
}

// InvalidArgument naming `field` unless `image` is uint8 [H, W, 3].
absl::Status CheckRgbImage(const char* field, const torch::Tensor& image, const char* model) {
  if (!image.defined() || image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != torch::kUInt8) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", model, " model needs an RGB image (uint8 [H, W, 3])"));
  }
  return absl::OkStatus();
}

// The flf2v DiT's img_emb.emb_pos is [1, 2 * 257, 1280]: 257 CLIP tokens per image.
constexpr int64_t kFlf2vClipTokens = 257;

}  // namespace

absl::StatusOr<std::unique_ptr<WanPipeline>> WanPipeline::Create(WanPipelineParts parts) {
  if (parts.dit.is_empty()) return absl::InvalidArgumentError("dit: missing");
  if (parts.text_encoder == nullptr) return absl::InvalidArgumentError("t5: missing");
  if (parts.vae == nullptr) return absl::InvalidArgumentError("vae: missing");
  const models::WanConfig& dit = parts.dit->config();
  if (dit.has_clip_input() && parts.clip == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "clip: an ", std::string(models::ModelTypeName(dit.model_type)), " DiT needs the CLIP image encoder"));
  }
  if (PipelineKindOf(dit) == PipelineKind::kFirstLastFrameToVideo &&
      parts.clip->config().num_tokens() != kFlf2vClipTokens) {
    return absl::InvalidArgumentError(absl::StrCat("clip: a flf2v DiT needs ", kFlf2vClipTokens,
                                                   " tokens per image, this encoder gives ",
                                                   parts.clip->config().num_tokens()));
  }
  if (parts.text_encoder->config().dim != dit.text_dim) {
    return absl::InvalidArgumentError(absl::StrCat("t5: width ", parts.text_encoder->config().dim,
                                                   " does not match the DiT's text_dim ", dit.text_dim));
  }
  if (!parts.dit_low_noise.is_empty() && !parts.dit_low_noise->config().SameArchitecture(dit)) {
    return absl::InvalidArgumentError("dit_low_noise: the low-noise expert's config differs from the high-noise one's");
  }
  const int64_t z = parts.vae->config().z_dim;
  const int64_t expected_in = dit.has_y_input() ? z + z + 4 : z;
  if (dit.out_dim != z || dit.in_dim != expected_in) {
    return absl::InvalidArgumentError(absl::StrCat("vae: z_dim ", z, " does not fit the DiT (in_dim ", dit.in_dim,
                                                   ", out_dim ", dit.out_dim, ")"));
  }
  return std::unique_ptr<WanPipeline>(new WanPipeline(std::move(parts)));
}

WanPipeline::WanPipeline(WanPipelineParts parts)
    : parts_(std::move(parts)),
      kind_(PipelineKindOf(parts_.dit->config())),
      text_cache_(std::make_unique<TextEmbeddingCache>(kTextEmbeddingCacheBytes)) {}

absl::StatusOr<LatentGeometry> WanPipeline::Geometry(const PipelineRequest& request) const {
  const auto& patch = dit_config().patch_size;
  switch (kind_) {
    case PipelineKind::kTextToVideo:
      return TextToVideoGeometry(request.width, request.height, request.num_frames, patch,
                                 parts_.vae->config().spatial_stride());
    case PipelineKind::kTextImageToVideo:
      if (!request.image.defined()) {
        return TextToVideoGeometry(request.width, request.height, request.num_frames, patch,
                                   parts_.vae->config().spatial_stride());
      }
      RETURN_IF_ERROR(CheckRgbImage("image", request.image, "a ti2v"));
      return TextImageToVideoGeometry(request.image.size(1), request.image.size(0), request.max_area,
                                      request.num_frames, patch);
    case PipelineKind::kImageToVideo:
      RETURN_IF_ERROR(CheckRgbImage("image", request.image, "an i2v"));
      return ImageToVideoGeometry(request.image.size(1), request.image.size(0), request.max_area,
                                  request.num_frames, patch);
    case PipelineKind::kFirstLastFrameToVideo:
      RETURN_IF_ERROR(CheckRgbImage("image", request.image, "a first-last-frame"));
      RETURN_IF_ERROR(CheckRgbImage("last_image", request.last_image, "a first-last-frame"));
      return FirstLastFrameGeometry(request.image.size(1), request.image.size(0), request.max_area,
                                    request.num_frames, patch);
  }
  return absl::InternalError("unknown pipeline kind");
}

absl::StatusOr<WanPipeline::ImageCondition> WanPipeline::EncodeImages(const PipelineRequest& request,
                                                                      const LatentGeometry& geometry,
                                                                      ProgressSink* progress,
                                                                      const CancelToken* cancel,
                                                                      PipelineTrace* trace) const {
  Report(progress, Stage::kImageEncoding, 0, 2);
  ASSIGN_OR_RETURN(const ImageConditionInputs inputs, TorchCall("image", [&] {
                     return kind_ == PipelineKind::kFirstLastFrameToVideo
                                ? FirstLastFrameConditionInputs(request.image, request.last_image, geometry)
                                : ImageToVideoConditionInputs(request.image, geometry);
                   }));
  ImageCondition out;
  torch::Tensor pixels;
  if (dit_config().has_clip_input()) {
    ASSIGN_OR_RETURN(pixels, parts_.clip->Preprocess(inputs.clip_images));
    ASSIGN_OR_RETURN(out.clip_fea, parts_.clip->EncodePixels(pixels));
  }
  Report(progress, Stage::kImageEncoding, 1, 2);
  RETURN_IF_ERROR(CheckCancel(cancel, "image encoding"));
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> encoded, parts_.vae->Encode({inputs.video}, cancel));
  ASSIGN_OR_RETURN(out.y, TorchCall("condition", [&] {
                     return at::cat({inputs.mask.to(encoded[0].device()), encoded[0]}, 0);
                   }));
  Report(progress, Stage::kImageEncoding, 2, 2);
  if (trace != nullptr) {
    trace->clip_pixel_values = pixels;
    trace->clip_fea = out.clip_fea;
    trace->y = out.y;
    trace->vae_cond_video = inputs.video;
  }
  return out;
}

absl::StatusOr<torch::Tensor> WanPipeline::EncodeFirstFrame(const PipelineRequest& request,
                                                           const LatentGeometry& geometry, ProgressSink* progress,
                                                           const CancelToken* cancel, PipelineTrace* trace) const {
  Report(progress, Stage::kImageEncoding, 0, 1);
  ASSIGN_OR_RETURN(const torch::Tensor image,
                   TorchCall("image", [&] { return TextImageToVideoImage(request.image, geometry); }));
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> z, parts_.vae->Encode({image}, cancel));
  Report(progress, Stage::kImageEncoding, 1, 1);
  if (trace != nullptr) {
    trace->image_cond = image;
    trace->z_image = z[0];
  }
  return z[0];
}

absl::Status WanPipeline::EnterOffloadPhase(OffloadPhase phase, Expert expert) const {
  return parts_.offload == nullptr ? absl::OkStatus() : parts_.offload->Enter(phase, expert);
}

absl::StatusOr<torch::Tensor> WanPipeline::Run(const PipelineRequest& request, ProgressSink* progress,
                                               const CancelToken* cancel, PipelineTrace* trace) const {
  ASSIGN_OR_RETURN(const LatentGeometry geometry, Geometry(request));
  if (trace != nullptr) trace->geometry = geometry;
  const torch::NoGradGuard no_grad;
  // `cancel` is also checked inside T5, CLIP and the VAE, before every block.
  const CancelScope cancel_scope(cancel);

  // Text: context = T5(prompt), context_null = T5(negative prompt).
  Report(progress, Stage::kTextEncoding, 0, 2);
  RETURN_IF_ERROR(EnterOffloadPhase(OffloadPhase::kTextEncoding));
  // Texts encoded before come from the cache.
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> contexts,
                   EncodeTextsCached(*parts_.text_encoder, text_cache_.get(),
                                     {request.prompt, request.negative_prompt}));
  Report(progress, Stage::kTextEncoding, 2, 2);
  RETURN_IF_ERROR(CheckCancel(cancel, "text encoding"));

  // Image (i2v, flf2v): CLIP features (Wan2.1), and y = [mask, VAE(condition video)].
  const bool has_image = kind_ == PipelineKind::kImageToVideo || kind_ == PipelineKind::kFirstLastFrameToVideo;
  ImageCondition image;
  if (has_image || (kind_ == PipelineKind::kTextImageToVideo && request.image.defined())) {
    RETURN_IF_ERROR(EnterOffloadPhase(OffloadPhase::kImageEncoding));
  }
  if (has_image) {
    ASSIGN_OR_RETURN(image, EncodeImages(request, geometry, progress, cancel, trace));
  }
  // TI2V with an image: its latent replaces latent frame 0 throughout.
  torch::Tensor first_frame;
  if (kind_ == PipelineKind::kTextImageToVideo && request.image.defined()) {
    ASSIGN_OR_RETURN(first_frame, EncodeFirstFrame(request, geometry, progress, cancel, trace));
  }
  if (trace != nullptr) {
    trace->context = contexts[0];
    trace->context_null = contexts[1];
  }
  if (has_expert_pair() && !request.denoise.experts) {
    return absl::InvalidArgumentError("guidance_scale: an expert-pair model needs its boundary and high-noise scale");
  }

  torch::Tensor noise = request.noise;
  if (!noise.defined()) noise = SeededNoise(request.seed, geometry, dit_config().out_dim);
  const std::vector<int64_t> expected = {dit_config().out_dim, geometry.latent_t, geometry.latent_h,
                                         geometry.latent_w};
  if (noise.sizes() != torch::IntArrayRef(expected)) {
    return absl::InvalidArgumentError(absl::StrCat("noise: shape [", absl::StrJoin(noise.sizes(), ", "),
                                                   "] != [", absl::StrJoin(expected, ", "), "]"));
  }

  // The DiT comes to the device (offload) before its device is read.
  RETURN_IF_ERROR(EnterOffloadPhase(OffloadPhase::kDenoising, has_expert_pair() ? Expert::kHighNoise : Expert::kSingle));
  // Handles on the shared modules; forward() only reads them.
  models::WanModel high_or_only = parts_.dit;
  models::WanModel low = has_expert_pair() ? parts_.dit_low_noise : parts_.dit;
  const torch::Device device = high_or_only->parameters().front().device();
  // Components may live on different devices (the memory plan): the DiT's inputs move to its device once.
  std::vector<torch::Tensor> dit_context;
  torch::Tensor dit_clip_fea, dit_y, frame_mask, dit_first_frame;
  RETURN_IF_ERROR(TorchCall("DiT inputs", [&] {
    for (const torch::Tensor& c : contexts) dit_context.push_back(c.to(device));
    if (has_image) {
      if (image.clip_fea.defined()) dit_clip_fea = image.clip_fea.to(device);
      dit_y = image.y.to(device);
    }
    if (first_frame.defined()) {
      dit_first_frame = first_frame.to(device);
      frame_mask = LatentFrameZeroMask(dit_config().out_dim, geometry).to(device);
    }
  }));
  const FlowModelFn model = [&](const torch::Tensor& latent, const torch::Tensor& t, bool conditional,
                                Expert expert) -> absl::StatusOr<torch::Tensor> {
    models::WanInputs in;
    in.x = {latent};
    in.t = t.to(device);
    if (frame_mask.defined()) {
      in.t = PerTokenTimesteps(frame_mask, t, geometry.seq_len, dit_config().patch_size);
      if (trace != nullptr && conditional) trace->dit_timesteps.push_back(in.t);
    }
    in.context = {dit_context[conditional ? 0 : 1]};
    in.seq_len = geometry.seq_len;
    if (has_image) {
      if (dit_clip_fea.defined()) in.clip_fea = dit_clip_fea;
      in.y = {dit_y};
    }
    models::WanModel& dit = expert == Expert::kLowNoise ? low : high_or_only;
    RETURN_IF_ERROR(EnterOffloadPhase(OffloadPhase::kDenoising, expert));
    return TorchCall("DiT forward", [&] { return dit->forward(in)[0]; });
  };
  LatentConstraintFn constrain;
  if (dit_first_frame.defined()) {
    constrain = [&](const torch::Tensor& latent) { return ImposeFirstFrame(latent, dit_first_frame, frame_mask); };
  }
  Report(progress, Stage::kDenoising, 0, request.denoise.steps);
  ASSIGN_OR_RETURN(const torch::Tensor latent,
                   Denoise(noise.to(device, torch::kFloat32), request.denoise, model,
                           [&](int done, int total, Expert expert) {
                             Report(progress, Stage::kDenoising, done, total, expert);
                           },
                           cancel, trace != nullptr ? &trace->denoise : nullptr, constrain));

  RETURN_IF_ERROR(EnterOffloadPhase(OffloadPhase::kDecoding));
  models::vae::DecodeOptions decode;
  decode.progress = [&](int done, int total) { Report(progress, Stage::kVaeDecoding, done, total); };
  if (parts_.vae_tile_latent_size > 0) {
    decode.tile_latent_size = parts_.vae_tile_latent_size;
    decode.tile_overlap = static_cast<int>(32 / parts_.vae->config().spatial_stride());
  }
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> videos, parts_.vae->Decode({latent}, decode, cancel));
  return videos[0];
}

}  // namespace videogen::pipeline

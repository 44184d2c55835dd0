// ClipVisual: the image encoder of the Wan2.1 i2v/flf2v pipelines
// (wan/modules/clip.py CLIPModel.visual): bicubic resize to image_size,
// [-1, 1] -> [0, 1], CLIP mean/std normalisation, then the visual tower up to
// the second-to-last block. Output = the DiT's clip_fea.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/models/clip/clip_config.h"
#include "engine/models/clip/vision_transformer.h"
#include "engine/models/common/state_dict.h"

namespace videogen::models {

// CLIP image statistics (open_clip OPENAI_DATASET_MEAN / _STD).
inline constexpr double kClipMean[3] = {0.48145466, 0.4578275, 0.40821073};
inline constexpr double kClipStd[3] = {0.26862954, 0.26130258, 0.27577711};

struct ClipVisualOptions {
  // The XLMRobertaCLIP checkpoint (models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth
  // or a safetensors file); read when `source` is null.
  std::string checkpoint_path;
  // Already opened weights instead of `checkpoint_path`. Not owned; only read during Create.
  const io::TensorSource* source = nullptr;
  // Prefix of the visual tower's tensors. Tensors outside it (textual.*,
  // log_scale) are ignored; inside it, the last block, post_norm and head may
  // be present or absent (never read), anything else unknown is an error.
  std::string prefix = "visual.";
  ClipVisionConfig config = ClipVisionConfig::VitHuge14();
  // Parameter and compute dtype: float32, bfloat16 or float16 (the reference
  // runs float16 autocast on CUDA; float16 is refused on the CPU, where
  // LibTorch 1.13 has no float16 GEMM or convolution).
  // LayerNorm and softmax statistics are float32 either way.
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
};

// Thread safety: immutable after Create; all methods are const and may be
// called concurrently.
class ClipVisual {
 public:
  // Errors: InvalidArgument naming the field (no checkpoint, bad dtype or
  // float16 on the CPU, missing visual weights or unexpected ones, shape
  // mismatches); NotFound for a missing file; DataLoss for a corrupt one;
  // ResourceExhausted when memory runs out.
  static absl::StatusOr<std::unique_ptr<ClipVisual>> Create(const ClipVisualOptions& options);

  // videos: each [3, T_i, H_i, W_i] in [-1, 1] (an image is [3, 1, H, W]) ->
  // pixel_values float32 [sum T_i, 3, S, S] on the options' device, S = image_size:
  // bicubic resize (align_corners=False, A=-0.75), x*0.5+0.5, (x - mean) / std.
  // InvalidArgument naming videos[i] for a wrong rank or channel count.
  absl::StatusOr<torch::Tensor> Preprocess(const std::vector<torch::Tensor>& videos) const;

  // pixel_values: [N, 3, S, S] -> features [N, num_tokens, vision_dim] in the
  // options' dtype. InvalidArgument naming "pixel_values" for a wrong shape.
  absl::StatusOr<torch::Tensor> EncodePixels(const torch::Tensor& pixel_values) const;

  // Preprocess + EncodePixels: the official CLIPModel.visual(videos).
  absl::StatusOr<torch::Tensor> Encode(const std::vector<torch::Tensor>& videos) const;

  const ClipVisionConfig& config() const { return config_; }
  // The visual tower module (for resident-memory accounting).
  const torch::nn::Module& module() const { return *visual_; }

 private:
  ClipVisual(const ClipVisionConfig& config, ClipVisionTransformer visual, torch::ScalarType dtype,
             torch::Device device);

  // Constant after construction.
  const ClipVisionConfig config_;
  const ClipVisionTransformer visual_;  // shared impl; forward() only reads it
  const torch::ScalarType dtype_;
  const torch::Device device_;
};

// Builds the visual tower for `config` and loads it from `source`:
// `options.prefix` selects the tower ("visual." in the official file),
// tensors outside it are ignored, and the unused last block / post_norm /
// head may be present. Errors as ClipVisual::Create.
absl::StatusOr<ClipVisionTransformer> LoadClipVisual(const ClipVisionConfig& config, const io::TensorSource& source,
                                                     const LoadOptions& options);

}  // namespace videogen::models

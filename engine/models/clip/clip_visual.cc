#include "engine/models/clip/clip_visual.h"

#include <utility>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::models {
namespace {

// Names (relative to the tower's prefix) that the use_31_block forward never
// reads: the last block(s), post_norm and the pooling head.
bool UnusedByForward(const ClipVisionConfig& config, absl::string_view local) {
  if (absl::StartsWith(local, "post_norm.") || local == "head" || absl::StartsWith(local, "head.")) return true;
  if (!absl::ConsumePrefix(&local, "transformer.")) return false;
  const size_t dot = local.find('.');
  int64_t index = 0;
  return dot != absl::string_view::npos && absl::SimpleAtoi(local.substr(0, dot), &index) &&
         index >= config.blocks_used();
}

}  // namespace

absl::StatusOr<ClipVisionTransformer> LoadClipVisual(const ClipVisionConfig& config, const io::TensorSource& source,
                                                     const LoadOptions& options) {
  if (options.dtype != torch::kFloat32 && options.dtype != torch::kBFloat16 && options.dtype != torch::kHalf) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype: the CLIP encoder runs in float32, bfloat16 or float16, not ",
                     c10::toString(options.dtype)));
  }
  LoadOptions load = options;
  load.ignore_outside_prefix = true;
  for (const io::TensorInfo& info : source.tensors()) {
    absl::string_view local = info.name;
    if (absl::ConsumePrefix(&local, options.prefix) && UnusedByForward(config, local)) {
      load.allowed_unused.emplace_back(local);
    }
  }
  if (options.dtype == torch::kHalf && options.device.is_cpu()) {
    return absl::InvalidArgumentError("dtype: float16 needs a CUDA device (LibTorch has no float16 GEMM/conv on CPU)");
  }
  ASSIGN_OR_RETURN(ClipVisionTransformer visual, TorchCall("building the CLIP visual tower", [&] {
                     return ClipVisionTransformer(config,
                                                  torch::TensorOptions().dtype(options.dtype).device(options.device));
                   }));
  RETURN_IF_ERROR(LoadStateDict(*visual, source, load));
  visual->eval();
  return visual;
}

ClipVisual::ClipVisual(const ClipVisionConfig& config, ClipVisionTransformer visual, torch::ScalarType dtype,
                       torch::Device device)
    : config_(config), visual_(std::move(visual)), dtype_(dtype), device_(device) {}

absl::StatusOr<std::unique_ptr<ClipVisual>> ClipVisual::Create(const ClipVisualOptions& options) {
  std::unique_ptr<io::TensorSource> opened;
  const io::TensorSource* source = options.source;
  if (source == nullptr) {
    if (options.checkpoint_path.empty()) {
      return absl::InvalidArgumentError("checkpoint_path: required when no source is given");
    }
    ASSIGN_OR_RETURN(opened, io::OpenCheckpoint(options.checkpoint_path));
    source = opened.get();
  }
  LoadOptions load;
  load.prefix = options.prefix;
  load.dtype = options.dtype;
  load.device = options.device;
  ASSIGN_OR_RETURN(ClipVisionTransformer visual, LoadClipVisual(options.config, *source, load));
  return std::unique_ptr<ClipVisual>(new ClipVisual(options.config, std::move(visual), options.dtype, options.device));
}

absl::StatusOr<torch::Tensor> ClipVisual::Preprocess(const std::vector<torch::Tensor>& videos) const {
  if (videos.empty()) return absl::InvalidArgumentError("videos: at least one video is required");
  for (size_t i = 0; i < videos.size(); ++i) {
    const torch::Tensor& u = videos[i];
    if (!u.defined() || u.dim() != 4 || u.size(0) != 3 || u.size(1) < 1 || u.size(2) < 1 || u.size(3) < 1 ||
        !u.is_floating_point()) {
      return absl::InvalidArgumentError(
          absl::StrCat("videos[", i, "]: must be a non-empty floating-point tensor [3, T, H, W]"));
    }
  }
  return TorchCall("CLIP preprocessing", [&] {
    c10::InferenceMode inference;
    const int64_t s = config_.image_size;
    std::vector<torch::Tensor> resized;
    resized.reserve(videos.size());
    for (const torch::Tensor& u : videos) {
      // [3, T, H, W] -> [T, 3, S, S]
      const torch::Tensor frames = u.to(device_, torch::kFloat32).transpose(0, 1);
      resized.push_back(at::upsample_bicubic2d(frames, {s, s}, /*align_corners=*/false, c10::nullopt, c10::nullopt));
    }
    torch::Tensor x = at::cat(resized, 0);
    x = x * 0.5 + 0.5;
    const torch::TensorOptions f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device_);
    const torch::Tensor mean = torch::tensor({kClipMean[0], kClipMean[1], kClipMean[2]}, f32).view({1, 3, 1, 1});
    const torch::Tensor std = torch::tensor({kClipStd[0], kClipStd[1], kClipStd[2]}, f32).view({1, 3, 1, 1});
    return (x - mean) / std;
  });
}

absl::StatusOr<torch::Tensor> ClipVisual::EncodePixels(const torch::Tensor& pixel_values) const {
  const int64_t s = config_.image_size;
  if (!pixel_values.defined() || pixel_values.dim() != 4 || pixel_values.size(1) != 3 || pixel_values.size(2) != s ||
      pixel_values.size(3) != s) {
    return absl::InvalidArgumentError(absl::StrCat("pixel_values: must be [N, 3, ", s, ", ", s, "]"));
  }
  return TorchCall("CLIP visual", [&] {
    c10::InferenceMode inference;
    return visual_.ptr()->forward(pixel_values.to(device_, dtype_));
  });
}

absl::StatusOr<torch::Tensor> ClipVisual::Encode(const std::vector<torch::Tensor>& videos) const {
  ASSIGN_OR_RETURN(torch::Tensor pixels, Preprocess(videos));
  return EncodePixels(pixels);
}

}  // namespace videogen::models

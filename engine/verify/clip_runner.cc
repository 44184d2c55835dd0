#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/models/clip/clip_visual.h"
#include "engine/verify/runners.h"

namespace videogen::verify {
namespace {

// pixel_values [N, 3, S, S] and features [N, tokens, vision_dim] from the weights at `path`.
absl::StatusOr<TensorMap> RunClip(const models::ClipVisionConfig& config, const std::string& path,
                                  const std::vector<torch::Tensor>& videos, const RunOptions& run) {
  models::ClipVisualOptions options;
  options.checkpoint_path = path;
  options.config = config;
  options.device = run.device;
  options.dtype = ParamDType(run);
  ASSIGN_OR_RETURN(std::unique_ptr<models::ClipVisual> clip, models::ClipVisual::Create(options));
  TensorMap out;
  ASSIGN_OR_RETURN(torch::Tensor pixels, clip->Preprocess(videos));
  ASSIGN_OR_RETURN(torch::Tensor features, clip->EncodePixels(pixels));
  out["pixel_values"] = pixels.cpu();
  out["features"] = features.cpu();
  return out;
}

}  // namespace

absl::StatusOr<TensorMap> RunClipFixture(const Fixture& fixture, const RunOptions& options) {
  if (options.weight_dtype == WeightDType::kFp8) {
    return absl::InvalidArgumentError("--dtype fp8 is not supported for the CLIP encoder");
  }
  ASSIGN_OR_RETURN(models::ClipVisionConfig config,
                   models::ClipVisionConfig::FromJson(fixture.meta.value("config", nlohmann::json())));
  ASSIGN_OR_RETURN(std::string weights, fixture.WeightsPath());
  const std::vector<torch::Tensor> videos = fixture.InputList("video");
  if (videos.empty()) return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": no video_0 input"));
  ASSIGN_OR_RETURN(TensorMap out, RunClip(config, weights, videos, options));

  const std::filesystem::path pth = std::filesystem::path(fixture.dir) / "weights.pth";
  if (std::filesystem::exists(pth) && !std::filesystem::equivalent(pth, weights)) {
    ASSIGN_OR_RETURN(TensorMap from_pth, RunClip(config, pth.string(), videos, options));
    RETURN_IF_ERROR(CheckSameOutputs(out, from_pth, pth.string()));
  }
  return out;
}

}  // namespace videogen::verify

#include "engine/pipeline/conditioning.h"

#include <cmath>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/pipeline/api/request_rules.h"

namespace videogen::pipeline {

absl::StatusOr<LatentGeometry> TextToVideoGeometry(int64_t width, int64_t height, int64_t frames,
                                                   std::array<int64_t, 3> patch, int64_t vae_stride) {
  RETURN_IF_ERROR(CheckNumFrames(frames));
  const int64_t mh = vae_stride * patch[1], mw = vae_stride * patch[2];
  if (width <= 0 || width % mw != 0) {
    return absl::InvalidArgumentError(absl::StrCat("width must be a positive multiple of ", mw, ", got ", width));
  }
  if (height <= 0 || height % mh != 0) {
    return absl::InvalidArgumentError(absl::StrCat("height must be a positive multiple of ", mh, ", got ", height));
  }
  LatentGeometry g;
  g.frames = frames;
  g.latent_t = (frames - 1) / 4 + 1;
  g.spatial_stride = vae_stride;
  g.latent_h = height / vae_stride;
  g.latent_w = width / vae_stride;
  // math.ceil((h * w) / (ph * pw) * T) on Python floats.
  g.seq_len = static_cast<int64_t>(std::ceil(static_cast<double>(g.latent_h * g.latent_w) /
                                             static_cast<double>(patch[1] * patch[2]) *
                                             static_cast<double>(g.latent_t)));
  return g;
}

absl::StatusOr<LatentGeometry> ImageToVideoGeometry(int64_t image_width, int64_t image_height,
                                                    int64_t max_area, int64_t frames,
                                                    std::array<int64_t, 3> patch) {
  RETURN_IF_ERROR(CheckNumFrames(frames));
  if (image_width <= 0 || image_height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("image must have a positive size, got ", image_width, "x", image_height));
  }
  const double aspect = static_cast<double>(image_height) / static_cast<double>(image_width);
  const double area = static_cast<double>(max_area);
  auto side = [](double v, int64_t p) {
    return static_cast<int64_t>(std::nearbyint(std::floor(std::floor(std::sqrt(v) / 8.0) / p) * p));
  };
  LatentGeometry g;
  g.frames = frames;
  g.latent_t = (frames - 1) / 4 + 1;
  g.latent_h = side(area * aspect, patch[1]);
  g.latent_w = side(area / aspect, patch[2]);
  if (g.latent_h <= 0 || g.latent_w <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_area ", max_area, " is too small for a ", image_width, "x", image_height,
        " image: it yields a ", g.latent_w * 8, "x", g.latent_h * 8, " video"));
  }
  g.seq_len = g.latent_t * g.latent_h * g.latent_w / (patch[1] * patch[2]);
  return g;
}

torch::Tensor ImageToTensor(const torch::Tensor& image_u8) {
  // image_u8: [H0, W0, 3] uint8
  return image_u8.permute({2, 0, 1}).to(torch::kFloat32).div(255.0).sub(0.5).div(0.5);
}

torch::Tensor FirstFrameMask(const LatentGeometry& g) {
  torch::Tensor msk = torch::zeros({4, g.latent_t, g.latent_h, g.latent_w}, torch::kFloat32);
  msk.select(1, 0).fill_(1.0);
  return msk;
}

torch::Tensor ResizeToVideo(const torch::Tensor& image, const LatentGeometry& g) {
  // image: [3, H0, W0] float32
  return at::upsample_bicubic2d(image.unsqueeze(0), {g.height(), g.width()}, /*align_corners=*/false).squeeze(0);
}

torch::Tensor ConditionVideo(const torch::Tensor& image, const LatentGeometry& g) {
  // image: [3, H0, W0] float32
  const torch::Tensor first = ResizeToVideo(image, g).unsqueeze(1);  // [3, 1, h, w]
  return at::cat({first, torch::zeros({3, g.frames - 1, g.height(), g.width()}, first.options())}, 1);
}

ImageConditionInputs ImageToVideoConditionInputs(const torch::Tensor& image_u8, const LatentGeometry& g) {
  // image_u8: [H0, W0, 3] uint8
  const torch::Tensor image = ImageToTensor(image_u8);
  return {{image.unsqueeze(1)}, ConditionVideo(image, g), FirstFrameMask(g)};
}

torch::Tensor SeededNoise(uint64_t seed, const LatentGeometry& g, int64_t channels) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randn({channels, g.latent_t, g.latent_h, g.latent_w}, gen, torch::kFloat32);
}

torch::Tensor VideoToFramesU8(const torch::Tensor& video) {
  // video: [3, F, H, W] in [-1, 1]
  return video.to(torch::kFloat32)
      .add(1.0)
      .mul(127.5)
      .round()
      .clamp(0, 255)
      .to(torch::kUInt8)
      .permute({1, 2, 3, 0})
      .contiguous();
}

}  // namespace videogen::pipeline

#include "engine/pipeline/flf2v_conditioning.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/pipeline/api/request_rules.h"

namespace videogen::pipeline {
namespace {

// Python's round() on a double: to nearest, ties to even (the default FE_TONEAREST mode).
int64_t PyRound(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

}  // namespace

absl::StatusOr<LatentGeometry> FirstLastFrameGeometry(int64_t first_width, int64_t first_height, int64_t max_area,
                                                      int64_t frames, std::array<int64_t, 3> patch) {
  RETURN_IF_ERROR(CheckNumFrames(frames));
  if (frames != kFirstLastFrameNumFrames) {
    return absl::InvalidArgumentError(absl::StrCat("num_frames: ", frames, " is not supported by first-last-frame ",
                                                   "models: their mask is built for exactly ", kFirstLastFrameNumFrames,
                                                   " frames"));
  }
  return ImageToVideoGeometry(first_width, first_height, max_area, frames, patch);
}

torch::Tensor FirstLastFrameMask(const LatentGeometry& g) {
  torch::Tensor msk = torch::ones({1, g.frames, g.latent_h, g.latent_w}, torch::kFloat32);
  msk.slice(1, 1, g.frames - 1).zero_();
  msk = at::cat({at::repeat_interleave(msk.slice(1, 0, 1), 4, 1), msk.slice(1, 1)}, 1);  // [1, F + 3, h, w]
  return msk.view({1, msk.size(1) / 4, 4, g.latent_h, g.latent_w}).transpose(1, 2)[0].contiguous();
}

torch::Tensor CropLastFrame(const torch::Tensor& last, int64_t first_width, int64_t first_height) {
  // last: [3, Hl, Wl]
  const int64_t last_h = last.size(1), last_w = last.size(2);
  if (last_w == first_width && last_h == first_height) return last;
  const double r = std::max(static_cast<double>(first_width) / static_cast<double>(last_w),
                            static_cast<double>(first_height) / static_cast<double>(last_h));
  // The official (W, H) size pair, read by center_crop as (height, width).
  const int64_t crop_h = PyRound(static_cast<double>(last_w) * r);
  const int64_t crop_w = PyRound(static_cast<double>(last_h) * r);
  torch::Tensor img = last;
  if (crop_w > last_w || crop_h > last_h) {
    const int64_t dw = std::max<int64_t>(crop_w - last_w, 0), dh = std::max<int64_t>(crop_h - last_h, 0);
    img = at::constant_pad_nd(img, {dw / 2, (dw + 1) / 2, dh / 2, (dh + 1) / 2}, 0.0);  // (left, right, top, bottom)
  }
  const int64_t h = img.size(1), w = img.size(2);
  const int64_t top = PyRound(static_cast<double>(h - crop_h) / 2.0);
  const int64_t left = PyRound(static_cast<double>(w - crop_w) / 2.0);
  return img.slice(1, top, top + crop_h).slice(2, left, left + crop_w);
}

torch::Tensor FirstLastConditionVideo(const torch::Tensor& first, const torch::Tensor& last, const LatentGeometry& g) {
  // first: [3, H0, W0], last: [3, H', W'] float32
  const torch::Tensor video = ConditionVideo(first, g);  // first frame, F - 1 zero frames
  video.select(1, g.frames - 1).copy_(ResizeToVideo(last, g));
  return video;
}

ImageConditionInputs FirstLastFrameConditionInputs(const torch::Tensor& first_u8, const torch::Tensor& last_u8,
                                                   const LatentGeometry& g) {
  // first_u8: [H0, W0, 3], last_u8: [Hl, Wl, 3] uint8
  const torch::Tensor first = ImageToTensor(first_u8);
  const torch::Tensor last = CropLastFrame(ImageToTensor(last_u8), first_u8.size(1), first_u8.size(0));
  return {{first.unsqueeze(1), last.unsqueeze(1)}, FirstLastConditionVideo(first, last, g), FirstLastFrameMask(g)};
}

}  // namespace videogen::pipeline

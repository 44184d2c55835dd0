// The first-last-frame-to-video pipeline part (wan/first_last_frame2video.py,
// WanFLF2V.generate): request geometry, the last-frame crop, the mask and the
// VAE condition video. Everything else (text, denoising, decoding) is the
// i2v pipeline's.
#pragma once

#include <array>
#include <cstdint>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/request_rules.h"
#include "engine/pipeline/conditioning.h"

namespace videogen::pipeline {

// The official mask is built for exactly kFirstLastFrameNumFrames = 81
// frames (21 latent frames; api/request_rules.h).

// ImageToVideoGeometry from the FIRST frame's size, after requiring
// frames == 81: InvalidArgument naming `num_frames` otherwise (and the
// errors of ImageToVideoGeometry).
absl::StatusOr<LatentGeometry> FirstLastFrameGeometry(int64_t first_width, int64_t first_height, int64_t max_area,
                                                      int64_t frames, std::array<int64_t, 3> patch = {1, 2, 2});

// The official mask, float32 [4, T, lat_h, lat_w]: ones(F) with frames
// 1..F-2 zeroed, frame 0 repeated 4x, viewed [T, 4] and transposed. With
// F = 81: latent frame 0 all ones, latent frame 20 = (0, 0, 0, 1) on the 4
// channels, zeros elsewhere. Precondition: geometry from FirstLastFrameGeometry.
torch::Tensor FirstLastFrameMask(const LatentGeometry& geometry);

// The official handling of a last frame whose size differs from the first:
// r = max(W0 / Wl, H0 / Hl), size = [round(Wl * r), round(Hl * r)], then
// torchvision center_crop(last, size), which reads size as (height, width):
// crop height round(Wl * r), crop width round(Hl * r); zero padding (left/top
// d // 2, right/bottom (d + 1) // 2) where the crop is larger, crop offsets
// round((H' - crop_h) / 2), round((W' - crop_w) / 2) (Python rounding, half to
// even). The frame is not resized here. Same size: returned unchanged.
// last: [3, Hl, Wl] -> [3, crop_h, crop_w].
torch::Tensor CropLastFrame(const torch::Tensor& last, int64_t first_width, int64_t first_height);

// The VAE condition video [3, F, h, w]: ResizeToVideo(first) as frame 0,
// F - 2 zero frames, ResizeToVideo(last) as frame F - 1.
torch::Tensor FirstLastConditionVideo(const torch::Tensor& first, const torch::Tensor& last,
                                      const LatentGeometry& geometry);

// flf2v: CLIP sees [first, CropLastFrame(last)] (2 images), the condition
// video and mask above. first_u8 / last_u8: uint8 [H, W, 3] RGB (sizes may
// differ); geometry from FirstLastFrameGeometry(first's size).
ImageConditionInputs FirstLastFrameConditionInputs(const torch::Tensor& first_u8, const torch::Tensor& last_u8,
                                                   const LatentGeometry& geometry);

}  // namespace videogen::pipeline

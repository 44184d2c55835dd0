// The request arithmetic and image conditioning of Wan2.2 TI2V-5B
// (wan/textimage2video.py, WanTI2V): the output size chosen for an image
// (best_output_size), the image resized as PIL does (LANCZOS on 8-bit RGB)
// and center-cropped, and the latent frame-0 mask that both replaces latent
// frame 0 with the encoded image and zeroes its tokens' timesteps.
#pragma once

#include <cstdint>
#include <utility>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/pipeline/conditioning.h"

namespace videogen::pipeline {

// wan.utils.utils.best_output_size(w, h, dw, dh, expected_area): the (width,
// height), multiples of (dw, dh) with area <= expected_area, whose aspect is
// closest to w / h (width-first and height-first candidates; ties go to
// height-first). InvalidArgument naming `max_area` when it is too small for
// one (dw, dh) cell, or `image` for an empty image.
absl::StatusOr<std::pair<int64_t, int64_t>> BestOutputSize(int64_t w, int64_t h, int64_t dw, int64_t dh,
                                                           int64_t expected_area);

// PIL Image.resize((out_w, out_h), Image.LANCZOS) of an 8-bit RGB image,
// bit-exact: PIL's separable two-pass resampling (horizontal, then vertical),
// its coefficient support and normalisation, 22-bit fixed-point weights and
// rounding, uint8 between the passes. A pass whose size is unchanged is skipped
// (PIL returns a copy when both are). image_u8: uint8 [H, W, 3] -> [out_h, out_w, 3].
torch::Tensor PilLanczosResize(const torch::Tensor& image_u8, int64_t out_w, int64_t out_h);

// TI2V with an image: (ow, oh) = BestOutputSize(W0, H0, 16 * ph, 16 * pw,
// max_area); latent (48, T, oh/16, ow/16); seq_len = T * h * w // (ph * pw).
// InvalidArgument naming `num_frames`, `max_area` or `image`.
absl::StatusOr<LatentGeometry> TextImageToVideoGeometry(int64_t image_width, int64_t image_height,
                                                        int64_t max_area, int64_t frames,
                                                        std::array<int64_t, 3> patch = {1, 2, 2});

// The conditioning image of WanTI2V.i2v: resized by max(ow / W0, oh / H0)
// (rounded sizes, PilLanczosResize), center crop box ((W' - ow) // 2, (H' -
// oh) // 2) of size (ow, oh), to [-1, 1]: float32 [3, 1, oh, ow].
torch::Tensor TextImageToVideoImage(const torch::Tensor& image_u8, const LatentGeometry& geometry);

// masks_like(zero=True)'s mask2 for one latent: float32 [C, T, h, w], 0 on
// latent frame 0, 1 elsewhere.
torch::Tensor LatentFrameZeroMask(int64_t channels, const LatentGeometry& geometry);

// latent with frame 0 replaced by the image latent: (1 - mask) * z + mask * latent
// (z: [C, 1, h, w], broadcast over T; mask from LatentFrameZeroMask).
torch::Tensor ImposeFirstFrame(const torch::Tensor& latent, const torch::Tensor& z, const torch::Tensor& mask);

// The DiT's per-token timesteps of one step: (mask[0][:, ::ph, ::pw] * t)
// flattened (0 on frame-0 tokens), padded with t to seq_len: float32 [1, seq_len].
// t: the scheduler's timestep, a [1] tensor.
torch::Tensor PerTokenTimesteps(const torch::Tensor& mask, const torch::Tensor& t, int64_t seq_len,
                                std::array<int64_t, 3> patch = {1, 2, 2});

}  // namespace videogen::pipeline

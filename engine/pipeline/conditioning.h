// The request-shape arithmetic and conditioning tensors of the official
// pipelines (wan/text2video.py, wan/image2video.py), in one place. The
// first-last-frame part (wan/first_last_frame2video.py) builds on these in
// flf2v_conditioning.h.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::pipeline {

// The latent video of a request: temporal VAE stride 4 (every Wan VAE),
// spatial stride 8 (Wan2.1 VAE) or 16 (Wan2.2 VAE).
struct LatentGeometry {
  int64_t frames = 0;     // F = 1 + 4k video frames
  int64_t latent_t = 0;   // T = (F - 1) / 4 + 1
  int64_t latent_h = 0;   // H / spatial_stride
  int64_t latent_w = 0;   // W / spatial_stride
  int64_t seq_len = 0;    // DiT tokens per sample
  int64_t spatial_stride = 8;
  int64_t height() const { return latent_h * spatial_stride; }
  int64_t width() const { return latent_w * spatial_stride; }
};

// t2v: latent (C, T, H/s, W/s) for VAE spatial stride s; seq_len = ceil(h * w
// / (ph * pw) * T). InvalidArgument naming `num_frames` (not 4n+1), `width` /
// `height` (not a positive multiple of s * patch).
absl::StatusOr<LatentGeometry> TextToVideoGeometry(int64_t width, int64_t height, int64_t frames,
                                                   std::array<int64_t, 3> patch = {1, 2, 2},
                                                   int64_t vae_stride = 8);

// i2v: lat_h = round(sqrt(max_area * H0 / W0) // 8 // ph * ph), likewise
// lat_w with W0 / H0 (floor divisions on doubles, as the reference);
// seq_len = T * lat_h * lat_w // (ph * pw). InvalidArgument naming
// `num_frames`, `max_area` (too small for one patch) or `image`.
absl::StatusOr<LatentGeometry> ImageToVideoGeometry(int64_t image_width, int64_t image_height,
                                                    int64_t max_area, int64_t frames,
                                                    std::array<int64_t, 3> patch = {1, 2, 2});

// uint8 [H0, W0, 3] RGB -> float32 [3, H0, W0] in [-1, 1] (to_tensor, sub(0.5), div(0.5)).
torch::Tensor ImageToTensor(const torch::Tensor& image_u8);

// The first-frame mask msk: float32 [4, T, lat_h, lat_w], 1 on latent frame 0.
torch::Tensor FirstFrameMask(const LatentGeometry& geometry);

// image [3, H0, W0] -> [3, h, w]: F.interpolate(image[None], size=(h, w),
// mode='bicubic') (align_corners false, no clamp: it may overshoot [-1, 1]).
torch::Tensor ResizeToVideo(const torch::Tensor& image, const LatentGeometry& geometry);

// The VAE condition video: ResizeToVideo(image) as frame 0 followed by F - 1
// zero frames: [3, F, h, w].
torch::Tensor ConditionVideo(const torch::Tensor& image, const LatentGeometry& geometry);

// What an image-conditioned pipeline gives its encoders: y = cat(mask,
// VAE.encode([video])[0]) and clip_fea = CLIP.visual(clip_images).
struct ImageConditionInputs {
  std::vector<torch::Tensor> clip_images;  // each [3, 1, H_i, W_i] in [-1, 1]
  torch::Tensor video;                     // [3, F, h, w]
  torch::Tensor mask;                      // [4, T, lat_h, lat_w]
};

// i2v (WanI2V.generate): CLIP sees the original-size image; ConditionVideo;
// FirstFrameMask. image_u8: uint8 [H0, W0, 3] RGB.
ImageConditionInputs ImageToVideoConditionInputs(const torch::Tensor& image_u8, const LatentGeometry& geometry);

// torch.randn(channels, T, h, w, generator=torch.Generator('cpu').manual_seed(seed)).
torch::Tensor SeededNoise(uint64_t seed, const LatentGeometry& geometry, int64_t channels = 16);

// Frames [3, F, H, W] in [-1, 1] -> uint8 [F, H, W, 3] ((x + 1) * 127.5, rounded, clamped).
torch::Tensor VideoToFramesU8(const torch::Tensor& video);

}  // namespace videogen::pipeline

// Test helpers for engine/media: synthetic frames, an independent decoder of
// the encoded bytes (libavformat/libavcodec from memory), the real ffprobe
// binary, and libavcodec image encoders to make PNG/JPEG/WebP inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::media::testing {

// frames * height * width * 3 bytes of a smooth diagonal gradient that drifts
// a few levels per frame (so consecutive frames differ).
std::vector<uint8_t> GradientVideo(int frames, int width, int height);

// One frame of GradientVideo as an image.
pipeline::RgbImage GradientImage(int width, int height, int frame_index = 0);

struct DecodedVideo {
  std::string format;  // libavformat demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;   // "h264", "vp9"
  int width = 0;
  int height = 0;
  int rate_num = 0;    // stream r_frame_rate
  int rate_den = 0;
  double duration_s = 0;  // container duration, 0 when unknown
  std::vector<pipeline::RgbImage> frames;  // decoded and converted to RGB24
};

// Demuxes and decodes `bytes` entirely in memory (a read+seek AVIOContext).
absl::StatusOr<DecodedVideo> DecodeVideo(const std::string& bytes);

struct FfprobeResult {
  std::string codec_name;
  int width = 0;
  int height = 0;
  int64_t nb_read_frames = 0;
  std::string r_frame_rate;  // "16/1", "30000/1001"
  std::string color_space;   // "bt709", ... ("" when untagged)
  std::string color_range;   // "tv" (limited), "pc" (full)
  double duration_s = 0;     // format duration, 0 when absent
};

// Writes `bytes` to a temporary file named *.<extension> and runs
// `ffprobe -count_frames` on it. Error when ffprobe fails or prints no stream.
absl::StatusOr<FfprobeResult> RunFfprobe(const std::string& bytes, const std::string& extension);

enum class ImageKind {
  kPng,           // libavcodec png
  kJpeg,          // libavcodec mjpeg, yuvj420p, q 2
  kWebpLossy,     // libwebp, VP8 (yuv420p)
  kWebpLossless,  // libwebp, VP8L
  kWebpAlpha,     // libwebp, VP8X + ALPH + VP8; alpha stays >= 64 so the colour is kept
};

// Encodes `image` into a whole image file. For kPng, `png_pixel_format` (an
// av_get_pix_fmt name: rgb24, rgba, gray, rgb48be, ...) is what the PNG stores.
absl::StatusOr<std::string> EncodeImage(ImageKind kind, const pipeline::RgbImage& image,
                                        const std::string& png_pixel_format = "rgb24");

struct PixelDiff {
  int max_abs = 0;
  double mean_abs = 0;
};
// Per-channel absolute differences; sizes must match.
PixelDiff Compare(const uint8_t* a, const uint8_t* b, size_t size);

// CRC-32 as PNG chunks use it (to forge headers that pass the checksum).
uint32_t PngCrc(const std::string& data);

}  // namespace videogen::media::testing

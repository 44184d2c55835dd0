// In-memory video encoding of generated RGB frames: H.264 in fragmented MP4
// (libx264) or VP9 in WebM (libvpx-vp9). The whole file is produced in memory;
// nothing touches the file system.
//
// Thread safety: EncodeVideo is reentrant; concurrent calls share nothing.
// Each call runs the encoder with 2 threads of its own. Deterministic: the
// same frames and options give the same bytes, whatever the process did before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"  // header-only

namespace videogen::media {

enum class VideoContainer {
  kMp4H264,  // H.264 (High profile, no macroblock tree, yuv420p, BT.709 limited range) in fragmented
             // MP4 (moov first, then one moof+mdat per keyframe interval), so it
             // streams progressively without +faststart.
  kWebmVp9,  // VP9 (profile 0, yuv420p, BT.709 limited range) in WebM with cues.
};

// "mp4" / "webm".
const char* VideoContainerName(VideoContainer container);

struct VideoEncodeOptions {
  VideoContainer container = VideoContainer::kMp4H264;
  // Frames per second, in (0, 1000]. Stored as the nearest rational with
  // terms up to 100000, so 16, 24 and 30000/1001 are exact.
  double fps = 16.0;
  // 0..100, higher is better; mapped linearly to a constant-quality factor:
  // H.264 CRF 51 (q=0) .. 1 (q=100), VP9 CRF 63 (q=0) .. 0 (q=100).
  // Unset: the encoder's default (H.264 CRF 23, VP9 CRF 32).
  std::optional<int> quality;
};

struct EncodedVideo {
  std::string container;  // "mp4" | "webm"
  std::string codec;      // "h264" | "vp9"
  int width = 0;          // encoded size (odd input sizes are padded to even)
  int height = 0;
  int frames = 0;
  double fps = 0;         // the stored rational frame rate
  std::string bytes;      // the whole file
};

// Encodes `frames` frames of `width` x `height` interleaved RGB
// (frame-major; rgb_size must equal frames * height * width * 3).
//
// Odd sizes: yuv420p needs even dimensions, so an odd width (height) is padded
// by one column (row) repeating the last one; the reported width/height are
// the padded, encoded ones.
//
// `cancel` (may be null) is checked before each frame and before the flush.
//
// Errors:
//   InvalidArgument naming the field: `frames` (> 0), `width` / `height`
//     (1..16384), `fps`, `quality`, `rgb` (null or size mismatch);
//   Cancelled / DeadlineExceeded from `cancel`;
//   Unimplemented when this FFmpeg lacks the encoder or muxer;
//   ResourceExhausted when libav cannot allocate;
//   Internal with the libav error string otherwise.
absl::StatusOr<EncodedVideo> EncodeVideo(const uint8_t* rgb, size_t rgb_size, int frames,
                                         int width, int height,
                                         const VideoEncodeOptions& options,
                                         const CancelToken* cancel = nullptr);

}  // namespace videogen::media

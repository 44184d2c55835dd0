// Safe decoding of untrusted still images (PNG, JPEG, WebP) to RGB: the size
// is read from the header and checked against limits before any pixel is
// decoded, so a small file cannot make the server allocate gigabytes.
//
// Thread safety: both functions are reentrant; concurrent calls share nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::media {

struct ImageLimits {
  int max_width = 4096;
  int max_height = 4096;
  int64_t max_pixels = 16'777'216;  // width * height
  size_t max_bytes = 32 << 20;      // encoded size
};

struct ImageInfo {
  std::string format;  // "png" | "jpeg" | "webp"
  int width = 0;
  int height = 0;
};

// Reads only the header (PNG IHDR, JPEG SOFn, WebP VP8 / VP8L / VP8X); decodes
// no pixels. Errors: InvalidArgument("image: ...") for unknown, corrupt or
// truncated data, a zero or unrepresentable size, a JPEG whose height is
// deferred to a DNL marker, and animated WebP (unsupported).
absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes);

// Probes, refuses images above `limits` before decoding (InvalidArgument
// naming `image` and the exceeded limit, e.g. "max_width=4096"), then decodes
// with libavcodec and converts to RGB24 (alpha is dropped; JPEG and other YUV
// input is converted with its own range and matrix, BT.601 unless tagged).
// The decoded size must equal the probed one.
// Errors: InvalidArgument("image: ...") for anything wrong with the data
// (including decoder errors on corrupt data); ResourceExhausted when libav
// cannot allocate; Unimplemented when this FFmpeg lacks the decoder;
// Internal for other libav failures.
absl::StatusOr<pipeline::RgbImage> DecodeImage(std::string_view bytes,
                                               const ImageLimits& limits = {});

}  // namespace videogen::media

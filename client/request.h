// Turning `videogen generate` flags into a GenerateVideoRequest. Only the
// syntax is checked here (a size is WxH, a sampler is one of three names);
// ranges (multiples of 16, 4n+1 frames, step limits) are the server's to
// judge, and its INVALID_ARGUMENT message is shown to the user as is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::client {

struct Size {
  uint32_t width = 0;
  uint32_t height = 0;
};

// "832x480" (also "832X480") -> {832, 480}. InvalidArgument naming `size` when
// the text is not two positive decimal integers separated by 'x'.
absl::StatusOr<Size> ParseSize(absl::string_view text);

// "unipc" | "dpmpp" | "euler" (case-insensitive). InvalidArgument naming `sampler`.
absl::StatusOr<v1::Sampler> ParseSampler(absl::string_view text);

// "mp4" | "webm" (case-insensitive). InvalidArgument naming `format`.
absl::StatusOr<v1::VideoFormat> ParseFormat(absl::string_view text);

// The format implied by an output path's extension: ".webm" -> WEBM_VP9,
// anything else -> MP4_H264.
v1::VideoFormat FormatForPath(absl::string_view path);

// The values of `videogen generate`'s flags. Unset optionals are left to the
// server (the model's defaults).
struct GenerateFlags {
  std::string model;                   // "": the server's only/first model (ListModels)
  std::string prompt;
  std::optional<std::string> negative_prompt;
  std::string image_path;              // "": no image (t2v)
  std::string last_frame_path;         // flf2v: the last frame; "": none
  std::string size;                    // "WxH" or ""
  std::optional<uint64_t> max_area;
  std::optional<uint32_t> frames;
  std::optional<double> fps;
  std::optional<uint32_t> steps;
  std::optional<double> guidance;
  std::optional<double> shift;
  std::string sampler;                 // "" = model default
  std::string timesteps;               // "1000,750,500,250": few-step sampling; "" = model default
  std::vector<std::string> loras;      // per-request adapters, "NAME" or "NAME:STRENGTH"
  std::optional<uint64_t> seed;
  std::string format;                  // "" = from the output extension
  std::optional<uint32_t> quality;
  int32_t priority = 0;
  std::string request_id;              // "": a random idempotency key
  std::string output_path;
};

// Builds the request. Reads the image file (NotFound naming `image` when it
// cannot be read). InvalidArgument naming the flag for bad syntax (`size`,
// `sampler`, `format`), for --size together with --max-area, and for an empty
// `prompt` or `output`.
absl::StatusOr<v1::GenerateVideoRequest> BuildGenerateRequest(const GenerateFlags& flags);

// A random 128-bit hex id for client_request_id.
std::string RandomRequestId();

}  // namespace videogen::client

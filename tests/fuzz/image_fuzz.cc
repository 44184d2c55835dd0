// FuzzImage: uploaded image bytes through the header probe and the decoder.
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/media/image_decoder.h"
#include "tests/fuzz/fuzz_targets.h"

namespace videogen::fuzz {
namespace {

// Small limits keep every decode cheap (libFuzzer runs thousands a second).
media::ImageLimits FuzzLimits() {
  media::ImageLimits limits;
  limits.max_width = 512;
  limits.max_height = 512;
  limits.max_pixels = 512 * 256;
  limits.max_bytes = 1 << 20;
  return limits;
}

// An error of the contract in image_decoder.h.
bool Documented(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return absl::StartsWith(s.message(), "image: ");
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string FuzzImage(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto info = media::ProbeImage(bytes);
  if (!info.ok() && !(info.status().code() == absl::StatusCode::kInvalidArgument &&
                      absl::StartsWith(info.status().message(), "image: "))) {
    return absl::StrCat("ProbeImage: ", info.status().ToString());
  }
  if (info.ok() && (info->width <= 0 || info->height <= 0)) {
    return absl::StrCat("ProbeImage: size ", info->width, "x", info->height);
  }
  const media::ImageLimits limits = FuzzLimits();
  const auto image = media::DecodeImage(bytes, limits);
  if (!image.ok()) {
    if (!Documented(image.status())) return absl::StrCat("DecodeImage: ", image.status().ToString());
    return "";
  }
  if (!info.ok()) return "DecodeImage: decoded what ProbeImage refused";
  if (image->width != info->width || image->height != info->height) {
    return absl::StrCat("DecodeImage: ", image->width, "x", image->height, " but probed ", info->width, "x",
                        info->height);
  }
  if (image->width > limits.max_width || image->height > limits.max_height ||
      int64_t{image->width} * image->height > limits.max_pixels) {
    return absl::StrCat("DecodeImage: ", image->width, "x", image->height, " is above the limits");
  }
  if (image->rgb.size() != static_cast<size_t>(image->width) * image->height * 3) {
    return absl::StrCat("DecodeImage: ", image->rgb.size(), " bytes for ", image->width, "x", image->height);
  }
  return "";
}

}  // namespace videogen::fuzz

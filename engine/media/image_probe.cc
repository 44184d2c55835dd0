// ProbeImage: header parsing only (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X).
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/media/image_decoder.h"

namespace videogen::media {
namespace {

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("image: ", what));
}

uint8_t At(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint32_t Be16(std::string_view b, size_t i) { return (uint32_t{At(b, i)} << 8) | At(b, i + 1); }
uint32_t Be32(std::string_view b, size_t i) { return (Be16(b, i) << 16) | Be16(b, i + 2); }
uint32_t Le16(std::string_view b, size_t i) { return uint32_t{At(b, i)} | (uint32_t{At(b, i + 1)} << 8); }
uint32_t Le24(std::string_view b, size_t i) { return Le16(b, i) | (uint32_t{At(b, i + 2)} << 16); }
uint32_t Le32(std::string_view b, size_t i) { return Le16(b, i) | (Le16(b, i + 2) << 16); }

// CRC-32 (ISO-HDLC, as PNG uses it).
uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) crc = table[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

absl::StatusOr<ImageInfo> Sized(const char* format, uint32_t width, uint32_t height) {
  constexpr uint32_t kMax = std::numeric_limits<int32_t>::max();
  if (width == 0 || height == 0) {
    return Bad(absl::StrCat(format, " header declares an empty size ", width, "x", height));
  }
  if (width > kMax || height > kMax) {
    return Bad(absl::StrCat(format, " header declares an invalid size ", width, "x", height));
  }
  return ImageInfo{format, static_cast<int>(width), static_cast<int>(height)};
}

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

absl::StatusOr<ImageInfo> ProbePng(std::string_view b) {
  // signature(8) length(4) "IHDR"(4) data(13) crc(4)
  if (b.size() < 33) return Bad("truncated png header");
  if (Be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") return Bad("png does not start with IHDR");
  if (Crc32(b.substr(12, 17)) != Be32(b, 29)) return Bad("png IHDR checksum mismatch");
  const uint32_t depth = At(b, 24), color = At(b, 25);
  const bool valid_depth =
      (color == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
      (color == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
      ((color == 2 || color == 4 || color == 6) && (depth == 8 || depth == 16));
  if (!valid_depth || At(b, 26) != 0 || At(b, 27) != 0 || At(b, 28) > 1) {
    return Bad("png IHDR has invalid depth, color type, compression, filter or interlace");
  }
  return Sized("png", Be32(b, 16), Be32(b, 20));
}

bool IsJpegFrameHeader(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

absl::StatusOr<ImageInfo> ProbeJpeg(std::string_view b) {
  size_t pos = 2;  // after SOI
  while (true) {
    if (pos >= b.size()) return Bad("truncated jpeg: no frame header");
    if (At(b, pos) != 0xFF) return Bad("corrupt jpeg: expected a marker");
    while (pos < b.size() && At(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return Bad("truncated jpeg: no frame header");
    const uint8_t marker = At(b, pos++);
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) return Bad("corrupt jpeg: no frame header before scan");
    if (marker == 0x00 || marker == 0xD8) return Bad("corrupt jpeg: unexpected marker");
    if (pos + 2 > b.size()) return Bad("truncated jpeg segment");
    const uint32_t length = Be16(b, pos);
    if (length < 2) return Bad("corrupt jpeg: segment length < 2");
    if (IsJpegFrameHeader(marker)) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (length < 8) return Bad("corrupt jpeg: short frame header");
      if (pos + 8 > b.size()) return Bad("truncated jpeg frame header");
      const uint32_t height = Be16(b, pos + 3), width = Be16(b, pos + 5);
      if (height == 0) return Bad("jpeg height defined by a DNL marker is not supported");
      return Sized("jpeg", width, height);
    }
    pos += length;
  }
}

absl::StatusOr<ImageInfo> ProbeWebp(std::string_view b) {
  // "RIFF" size(4) "WEBP" fourcc(4) chunk_size(4) payload...
  if (b.size() < 20) return Bad("truncated webp header");
  if (static_cast<uint64_t>(Le32(b, 4)) + 8 > b.size()) return Bad("truncated webp: RIFF size exceeds the data");
  const std::string_view fourcc = b.substr(12, 4);
  const uint32_t chunk_size = Le32(b, 16);
  const size_t payload = 20;
  const auto need = [&](size_t n) { return chunk_size >= n && b.size() >= payload + n; };
  if (fourcc == "VP8 ") {
    if (!need(10)) return Bad("truncated webp VP8 header");
    if ((At(b, payload) & 1) != 0) return Bad("corrupt webp: VP8 frame is not a key frame");
    if (At(b, payload + 3) != 0x9D || At(b, payload + 4) != 0x01 || At(b, payload + 5) != 0x2A) {
      return Bad("corrupt webp: bad VP8 start code");
    }
    return Sized("webp", Le16(b, payload + 6) & 0x3FFF, Le16(b, payload + 8) & 0x3FFF);
  }
  if (fourcc == "VP8L") {
    if (!need(5)) return Bad("truncated webp VP8L header");
    if (At(b, payload) != 0x2F) return Bad("corrupt webp: bad VP8L signature");
    const uint32_t bits = Le32(b, payload + 1);
    if ((bits >> 29) != 0) return Bad("corrupt webp: unknown VP8L version");
    return Sized("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (fourcc == "VP8X") {
    if (!need(10)) return Bad("truncated webp VP8X header");
    if ((At(b, payload) & 0x02) != 0) return Bad("animated webp is not supported");
    return Sized("webp", Le24(b, payload + 4) + 1, Le24(b, payload + 7) + 1);
  }
  return Bad("corrupt webp: unknown first chunk");
}

}  // namespace

absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes) {
  if (bytes.size() >= 8 && bytes.substr(0, 8) == kPngSignature) return ProbePng(bytes);
  if (bytes.size() >= 3 && At(bytes, 0) == 0xFF && At(bytes, 1) == 0xD8 && At(bytes, 2) == 0xFF) {
    return ProbeJpeg(bytes);
  }
  if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    return ProbeWebp(bytes);
  }
  return Bad("unknown format (expected png, jpeg or webp)");
}

}  // namespace videogen::media

#include "engine/media/image_decoder.h"

#include <cstdint>
#include <string>
#include <vector>

#include "engine/media/libav_logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/media/media_test_util.h"

namespace videogen::media {
namespace {

using ::testing::HasSubstr;
using testing::Compare;
using testing::EncodeImage;
using testing::ImageKind;
using testing::GradientImage;
using testing::PixelDiff;

void ExpectInvalidImage(const absl::Status& status, const std::string& detail) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("image"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(detail));
}

void PutBe32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

// A PNG whose IHDR (with a valid checksum) claims width x height.
std::string ForgePngSize(std::string png, uint32_t width, uint32_t height) {
  PutBe32(png, 16, width);
  PutBe32(png, 20, height);
  PutBe32(png, 29, testing::PngCrc(png.substr(12, 17)));
  return png;
}

// A RIFF/WEBP file holding one chunk.
std::string Webp(const std::string& fourcc, const std::string& payload) {
  std::string chunk = fourcc;
  const uint32_t size = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) chunk += static_cast<char>((size >> (8 * i)) & 0xFF);
  chunk += payload;
  const uint32_t riff = static_cast<uint32_t>(chunk.size() + 4);
  std::string out = "RIFF";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((riff >> (8 * i)) & 0xFF);
  return out + "WEBP" + chunk;
}

struct Case {
  const char* name;
  ImageKind kind;
  const char* format;  // ImageInfo::format
  int max_error;       // per channel; about 2x the error measured on the gradient
};

class ImageRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ImageRoundTrip, ProbesAndDecodesCloseToTheInput) {
  const Case c = GetParam();
  for (const auto& [width, height] : std::vector<std::pair<int, int>>{{64, 48}, {33, 17}}) {
    SCOPED_TRACE(::testing::Message() << width << "x" << height);
    const pipeline::RgbImage input = GradientImage(width, height);
    absl::StatusOr<std::string> bytes = EncodeImage(c.kind, input);
    ASSERT_TRUE(bytes.ok()) << bytes.status();

    absl::StatusOr<ImageInfo> info = ProbeImage(*bytes);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->format, c.format);
    EXPECT_EQ(info->width, width);
    EXPECT_EQ(info->height, height);

    absl::StatusOr<pipeline::RgbImage> decoded = DecodeImage(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, width);
    EXPECT_EQ(decoded->height, height);
    ASSERT_EQ(decoded->rgb.size(), input.rgb.size());
    const PixelDiff diff = Compare(decoded->rgb.data(), input.rgb.data(), input.rgb.size());
    std::printf("%s %dx%d: max |error| %d, mean |error| %.3f\n", c.name, width, height,
                diff.max_abs, diff.mean_abs);
    EXPECT_LE(diff.max_abs, c.max_error);
  }
}

TEST_P(ImageRoundTrip, TruncatedOrCorruptDataIsInvalidArgumentNeverACrash) {
  const Case c = GetParam();
  SetLibavLogLevel(LibavLogLevel::kQuiet);  // decoders complain loudly about corrupt data
  absl::StatusOr<std::string> bytes = EncodeImage(c.kind, GradientImage(40, 24));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const auto acceptable = [](const absl::Status& s) {
    return s.ok() || s.code() == absl::StatusCode::kInvalidArgument;
  };
  // Cut before the end of the header: probe and decode both refuse.
  for (size_t n = 0; n < 30; ++n) {
    ExpectInvalidImage(DecodeImage(bytes->substr(0, n)).status(), "image");
  }
  // Every other truncation and single-byte corruption: a well-formed image or
  // InvalidArgument, nothing else.
  for (size_t n = 30; n < bytes->size(); n += 7) {
    const absl::Status status = DecodeImage(bytes->substr(0, n)).status();
    EXPECT_TRUE(acceptable(status)) << "prefix " << n << ": " << status;
  }
  uint32_t state = 12345;
  for (int i = 0; i < 200; ++i) {
    state = state * 1664525u + 1013904223u;
    std::string corrupt = *bytes;
    corrupt[state % corrupt.size()] ^= static_cast<char>(1 + (state >> 24) % 255);
    absl::StatusOr<pipeline::RgbImage> decoded = DecodeImage(corrupt);
    EXPECT_TRUE(acceptable(decoded.status())) << "flip " << i << ": " << decoded.status();
    if (decoded.ok()) {
      EXPECT_EQ(decoded->rgb.size(), static_cast<size_t>(decoded->width) * decoded->height * 3);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ImageRoundTrip,
    ::testing::Values(Case{"png", ImageKind::kPng, "png", 0},
                      Case{"jpeg", ImageKind::kJpeg, "jpeg", 14},
                      Case{"webp_lossless", ImageKind::kWebpLossless, "webp", 0},
                      Case{"webp_lossy", ImageKind::kWebpLossy, "webp", 16},
                      Case{"webp_alpha", ImageKind::kWebpAlpha, "webp", 16}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ImageDecoder, ConvertsOtherPngPixelFormatsToRgb) {
  // Gray input stays exactly gray; alpha is dropped; 16-bit is scaled to 8.
  pipeline::RgbImage gray = GradientImage(24, 16);
  for (size_t i = 0; i < gray.rgb.size(); i += 3) gray.rgb[i] = gray.rgb[i + 2] = gray.rgb[i + 1];
  for (const char* format : {"rgba", "rgb48be", "gray", "ya8"}) {
    SCOPED_TRACE(format);
    absl::StatusOr<std::string> png = EncodeImage(ImageKind::kPng, gray, format);
    ASSERT_TRUE(png.ok()) << png.status();
    absl::StatusOr<pipeline::RgbImage> decoded = DecodeImage(*png);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->rgb.size(), gray.rgb.size());
    const PixelDiff diff = Compare(decoded->rgb.data(), gray.rgb.data(), gray.rgb.size());
    std::printf("png %s: max |error| %d\n", format, diff.max_abs);
    EXPECT_LE(diff.max_abs, 1);
  }
}

TEST(ImageDecoder, WebpEncodersProduceTheExpectedChunks) {
  // Guards the round-trip cases above: each WebP flavour really is covered.
  const pipeline::RgbImage image = GradientImage(16, 16);
  absl::StatusOr<std::string> lossy = EncodeImage(ImageKind::kWebpLossy, image);
  absl::StatusOr<std::string> lossless = EncodeImage(ImageKind::kWebpLossless, image);
  absl::StatusOr<std::string> alpha = EncodeImage(ImageKind::kWebpAlpha, image);
  ASSERT_TRUE(lossy.ok() && lossless.ok() && alpha.ok());
  EXPECT_EQ(lossy->substr(12, 4), "VP8 ");
  EXPECT_EQ(lossless->substr(12, 4), "VP8L");
  EXPECT_EQ(alpha->substr(12, 4), "VP8X");
}

TEST(ImageDecoder, RefusesADecompressionBombBeforeDecoding) {
  absl::StatusOr<std::string> png = EncodeImage(ImageKind::kPng, GradientImage(64, 48));
  ASSERT_TRUE(png.ok()) << png.status();
  const std::string bomb = ForgePngSize(*png, 100000, 100000);
  absl::StatusOr<ImageInfo> info = ProbeImage(bomb);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 100000);
  EXPECT_EQ(info->height, 100000);
  ExpectInvalidImage(DecodeImage(bomb).status(), "max_width=4096");

  ImageLimits wide;
  wide.max_width = 200000;
  ExpectInvalidImage(DecodeImage(bomb, wide).status(), "max_height=4096");
  wide.max_height = 200000;
  ExpectInvalidImage(DecodeImage(bomb, wide).status(), "max_pixels=16777216");
}

TEST(ImageDecoder, AppliesEachLimit) {
  absl::StatusOr<std::string> png = EncodeImage(ImageKind::kPng, GradientImage(64, 48));
  ASSERT_TRUE(png.ok()) << png.status();
  ImageLimits limits;
  limits.max_width = 63;
  ExpectInvalidImage(DecodeImage(*png, limits).status(), "max_width=63");
  limits = ImageLimits{};
  limits.max_height = 47;
  ExpectInvalidImage(DecodeImage(*png, limits).status(), "max_height=47");
  limits = ImageLimits{};
  limits.max_pixels = 64 * 48 - 1;
  ExpectInvalidImage(DecodeImage(*png, limits).status(), "max_pixels=3071");
  limits = ImageLimits{};
  limits.max_bytes = png->size() - 1;
  ExpectInvalidImage(DecodeImage(*png, limits).status(), "max_bytes=");
  limits = ImageLimits{};
  limits.max_width = 64;
  limits.max_height = 48;
  limits.max_pixels = 64 * 48;
  limits.max_bytes = png->size();
  EXPECT_TRUE(DecodeImage(*png, limits).ok());
}

TEST(ImageDecoder, HeaderWithoutPixelsIsInvalidArgument) {
  absl::StatusOr<std::string> png = EncodeImage(ImageKind::kPng, GradientImage(64, 48));
  ASSERT_TRUE(png.ok()) << png.status();
  const std::string header_only = png->substr(0, 33);
  EXPECT_TRUE(ProbeImage(header_only).ok());
  ExpectInvalidImage(DecodeImage(header_only).status(), "png");
}

TEST(ImageDecoder, RefusesABombHiddenBehindASmallWebpCanvas) {
  // VP8X says 64x48 (within the limits); the VP8L bitstream inside claims
  // 16000x16000. The decoder must refuse it, not allocate 256M pixels.
  absl::StatusOr<std::string> lossless = EncodeImage(ImageKind::kWebpLossless, GradientImage(64, 48));
  ASSERT_TRUE(lossless.ok()) << lossless.status();
  ASSERT_EQ(lossless->substr(12, 4), "VP8L");
  std::string vp8l = lossless->substr(12);  // the VP8L chunk
  uint32_t bits = static_cast<uint8_t>(vp8l[9]) | (static_cast<uint8_t>(vp8l[10]) << 8) |
                  (static_cast<uint8_t>(vp8l[11]) << 16) |
                  (static_cast<uint32_t>(static_cast<uint8_t>(vp8l[12])) << 24);
  bits = (bits & ~0x0FFFFFFFu) | (15999u << 14) | 15999u;
  for (int i = 0; i < 4; ++i) vp8l[9 + i] = static_cast<char>((bits >> (8 * i)) & 0xFF);
  const std::string canvas("\x00\x00\x00\x00\x3F\x00\x00\x2F\x00\x00", 10);  // 64x48
  std::string file = Webp("VP8X", canvas);
  file += vp8l;
  const uint32_t riff = static_cast<uint32_t>(file.size() - 8);
  for (int i = 0; i < 4; ++i) file[4 + i] = static_cast<char>((riff >> (8 * i)) & 0xFF);

  absl::StatusOr<ImageInfo> info = ProbeImage(file);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 64);
  EXPECT_EQ(info->height, 48);
  const absl::Status status = DecodeImage(file).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("image: cannot decode webp"));
}

TEST(ImageProbe, RefusesUnknownAndMalformedHeaders) {
  ExpectInvalidImage(ProbeImage("").status(), "unknown format");
  ExpectInvalidImage(ProbeImage("GIF89a\x10\x00\x10\x00").status(), "unknown format");

  absl::StatusOr<std::string> png = EncodeImage(ImageKind::kPng, GradientImage(8, 8));
  ASSERT_TRUE(png.ok());
  std::string bad_crc = *png;
  bad_crc[17] ^= 1;  // width changes, checksum does not
  ExpectInvalidImage(ProbeImage(bad_crc).status(), "checksum");
  ExpectInvalidImage(ProbeImage(ForgePngSize(*png, 0, 8)).status(), "empty size");
  ExpectInvalidImage(ProbeImage(ForgePngSize(*png, 0x80000000u, 8)).status(), "invalid size");

  // JPEG: a frame header with height 0 (DNL) and a scan before any frame header.
  const std::string dnl("\xFF\xD8\xFF\xC0\x00\x0B\x08\x00\x00\x00\x10\x01\x01\x11\x00", 15);
  ExpectInvalidImage(ProbeImage(dnl).status(), "DNL");
  const std::string scan_first("\xFF\xD8\xFF\xDA\x00\x02", 6);
  ExpectInvalidImage(ProbeImage(scan_first).status(), "no frame header");
  // A JPEG whose segment length walks off the end.
  const std::string walk_off("\xFF\xD8\xFF\xE0\xFF\xF0", 6);
  ExpectInvalidImage(ProbeImage(walk_off).status(), "jpeg");
}

TEST(ImageProbe, ReadsWebpExtendedHeaderAndRefusesAnimation) {
  // VP8X canvas 5000x3000 (stored minus one, 24-bit little endian).
  const std::string canvas("\x00\x00\x00\x00\x87\x13\x00\xB7\x0B\x00", 10);
  absl::StatusOr<ImageInfo> info = ProbeImage(Webp("VP8X", canvas));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, "webp");
  EXPECT_EQ(info->width, 5000);
  EXPECT_EQ(info->height, 3000);
  ExpectInvalidImage(DecodeImage(Webp("VP8X", canvas)).status(), "max_width=4096");

  std::string animated = canvas;
  animated[0] = 0x02;
  ExpectInvalidImage(ProbeImage(Webp("VP8X", animated)).status(), "animated");
  ExpectInvalidImage(ProbeImage(Webp("ALPH", canvas)).status(), "unknown first chunk");
  std::string truncated = Webp("VP8X", canvas);
  truncated.resize(truncated.size() - 4);
  ExpectInvalidImage(ProbeImage(truncated).status(), "truncated");
}

}  // namespace
}  // namespace videogen::media

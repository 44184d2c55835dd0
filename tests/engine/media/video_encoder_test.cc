#include "engine/media/video_encoder.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/media/media_test_util.h"

namespace videogen::media {
namespace {

using ::testing::HasSubstr;
using testing::Compare;
using testing::DecodeVideo;
using testing::GradientVideo;
using testing::PixelDiff;
using testing::RunFfprobe;

struct Format {
  VideoContainer container;
  const char* extension;
  const char* codec;
};

class VideoEncoderRoundTrip : public ::testing::TestWithParam<Format> {};

// EncodeVideo of `rgb` (frames x height x width RGB) into `format`'s container.
absl::StatusOr<EncodedVideo> Encode(const std::vector<uint8_t>& rgb, int frames, int width, int height,
                                    const Format& format, VideoEncodeOptions options = {}) {
  options.container = format.container;
  return EncodeVideo(rgb.data(), rgb.size(), frames, width, height, options);
}

// The mean error of the whole video, and the max error of any pixel, between
// the input and the decoded frames (cropped to the input size).
PixelDiff VideoError(const std::vector<uint8_t>& input, int frames, int width, int height,
                     const testing::DecodedVideo& decoded) {
  PixelDiff total;
  double mean_sum = 0;
  for (int t = 0; t < frames; ++t) {
    const pipeline::RgbImage& out = decoded.frames[t];
    for (int y = 0; y < height; ++y) {
      const uint8_t* a = input.data() + ((static_cast<size_t>(t) * height + y) * width) * 3;
      const uint8_t* b = out.rgb.data() + static_cast<size_t>(y) * out.width * 3;
      const PixelDiff row = Compare(a, b, static_cast<size_t>(width) * 3);
      total.max_abs = std::max(total.max_abs, row.max_abs);
      mean_sum += row.mean_abs;
    }
  }
  total.mean_abs = mean_sum / (frames * height);
  return total;
}

TEST_P(VideoEncoderRoundTrip, DecodesBackToTheInput) {
  const Format format = GetParam();
  constexpr int kFrames = 17, kWidth = 64, kHeight = 48;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->container, format.extension);
  EXPECT_EQ(video->codec, format.codec);
  EXPECT_EQ(video->width, kWidth);
  EXPECT_EQ(video->height, kHeight);
  EXPECT_EQ(video->frames, kFrames);
  EXPECT_DOUBLE_EQ(video->fps, 16.0);
  if (format.container == VideoContainer::kMp4H264) {
    // Fragmented MP4: ftyp, then an (empty) moov before the first moof.
    EXPECT_EQ(video->bytes.substr(4, 4), "ftyp");
    const size_t moov = video->bytes.find("moov"), moof = video->bytes.find("moof");
    ASSERT_NE(moov, std::string::npos);
    ASSERT_NE(moof, std::string::npos);
    EXPECT_LT(moov, moof);
  } else {
    // WebM: EBML magic, and Cues, which the muxer writes only to seekable output.
    EXPECT_EQ(video->bytes.substr(0, 4), std::string("\x1A\x45\xDF\xA3", 4));
    EXPECT_NE(video->bytes.find(std::string("\x1C\x53\xBB\x6B", 4)), std::string::npos);
  }

  absl::StatusOr<testing::DecodedVideo> decoded = DecodeVideo(video->bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->codec, format.codec);
  EXPECT_EQ(decoded->width, kWidth);
  EXPECT_EQ(decoded->height, kHeight);
  EXPECT_EQ(decoded->rate_num, 16);
  EXPECT_EQ(decoded->rate_den, 1);
  EXPECT_NEAR(decoded->duration_s, kFrames / 16.0, 1.0 / 16);
  ASSERT_EQ(decoded->frames.size(), static_cast<size_t>(kFrames));

  // Default quality on a smooth gradient (measured: see the report); the
  // bounds leave about 2x headroom over the measured error.
  const PixelDiff error = VideoError(rgb, kFrames, kWidth, kHeight, *decoded);
  std::printf("%s default quality: max |error| %d, mean |error| %.3f\n", format.extension,
              error.max_abs, error.mean_abs);
  EXPECT_LE(error.mean_abs, 2.0);
  EXPECT_LE(error.max_abs, 24);
}

TEST_P(VideoEncoderRoundTrip, FfprobeReadsCodecSizeFramesAndRate) {
  const Format format = GetParam();
  constexpr int kFrames = 17, kWidth = 64, kHeight = 48;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format);
  ASSERT_TRUE(video.ok()) << video.status();

  absl::StatusOr<testing::FfprobeResult> probe = RunFfprobe(video->bytes, format.extension);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->codec_name, format.codec);
  EXPECT_EQ(probe->width, kWidth);
  EXPECT_EQ(probe->height, kHeight);
  EXPECT_EQ(probe->nb_read_frames, kFrames);
  EXPECT_EQ(probe->r_frame_rate, "16/1");
  EXPECT_EQ(probe->color_space, "bt709");
  EXPECT_EQ(probe->color_range, "tv");
  EXPECT_NEAR(probe->duration_s, kFrames / 16.0, 1.0 / 16);
}

TEST_P(VideoEncoderRoundTrip, KeepsFractionalFrameRatesExact) {
  const Format format = GetParam();
  constexpr int kFrames = 9, kWidth = 32, kHeight = 32;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  for (const auto& [fps, expected] :
       std::vector<std::pair<double, std::string>>{{24.0, "24/1"}, {30000.0 / 1001, "30000/1001"}}) {
    VideoEncodeOptions options;
    options.fps = fps;
    absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format, options);
    ASSERT_TRUE(video.ok()) << video.status();
    EXPECT_DOUBLE_EQ(video->fps, fps);
    absl::StatusOr<testing::FfprobeResult> probe = RunFfprobe(video->bytes, format.extension);
    ASSERT_TRUE(probe.ok()) << probe.status();
    EXPECT_EQ(probe->r_frame_rate, expected);
    EXPECT_EQ(probe->nb_read_frames, kFrames);
  }
}

TEST_P(VideoEncoderRoundTrip, PadsOddSizesByRepeatingTheLastColumnAndRow) {
  const Format format = GetParam();
  constexpr int kFrames = 5, kWidth = 51, kHeight = 37;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  VideoEncodeOptions options;
  options.quality = 90;
  absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format, options);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->width, 52);
  EXPECT_EQ(video->height, 38);
  absl::StatusOr<testing::DecodedVideo> decoded = DecodeVideo(video->bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->frames.size(), static_cast<size_t>(kFrames));
  EXPECT_EQ(decoded->width, 52);
  EXPECT_EQ(decoded->height, 38);
  EXPECT_LE(VideoError(rgb, kFrames, kWidth, kHeight, *decoded).mean_abs, 2.0);
  // The padding column repeats the last input column (up to coding error).
  const pipeline::RgbImage& first = decoded->frames[0];
  for (int y = 0; y < kHeight; ++y) {
    for (int c = 0; c < 3; ++c) {
      const int input = rgb[(static_cast<size_t>(y) * kWidth + kWidth - 1) * 3 + c];
      const int padded = first.rgb[(static_cast<size_t>(y) * first.width + 51) * 3 + c];
      EXPECT_NEAR(padded, input, 12) << "row " << y << " channel " << c;
    }
  }
}

TEST_P(VideoEncoderRoundTrip, EncodesSizesThatAreNotMultiplesOf16) {
  const Format format = GetParam();
  constexpr int kFrames = 5, kWidth = 50, kHeight = 38;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->width, kWidth);
  EXPECT_EQ(video->height, kHeight);
  absl::StatusOr<testing::FfprobeResult> probe = RunFfprobe(video->bytes, format.extension);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->width, kWidth);
  EXPECT_EQ(probe->height, kHeight);
  EXPECT_EQ(probe->nb_read_frames, kFrames);
}

TEST_P(VideoEncoderRoundTrip, HigherQualityIsCloserAndLarger) {
  const Format format = GetParam();
  constexpr int kFrames = 5, kWidth = 64, kHeight = 48;
  const std::vector<uint8_t> rgb = GradientVideo(kFrames, kWidth, kHeight);
  PixelDiff error[2];
  size_t size[2];
  const int qualities[2] = {0, 100};
  for (int i = 0; i < 2; ++i) {
    VideoEncodeOptions options;
    options.quality = qualities[i];
    absl::StatusOr<EncodedVideo> video = Encode(rgb, kFrames, kWidth, kHeight, format, options);
    ASSERT_TRUE(video.ok()) << video.status();
    absl::StatusOr<testing::DecodedVideo> decoded = DecodeVideo(video->bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->frames.size(), static_cast<size_t>(kFrames));
    error[i] = VideoError(rgb, kFrames, kWidth, kHeight, *decoded);
    size[i] = video->bytes.size();
    std::printf("%s quality %d: %zu bytes, max |error| %d, mean |error| %.3f\n", format.extension,
                qualities[i], size[i], error[i].max_abs, error[i].mean_abs);
  }
  EXPECT_LT(error[1].mean_abs, error[0].mean_abs);
  EXPECT_GT(size[1], size[0]);
}

// Noise-like frames (what the tiny models make: the encoder's hardest case)
// from a linear congruential generator seeded with `seed`.
std::vector<uint8_t> NoiseFrames(int frames, int width, int height, uint32_t seed) {
  std::vector<uint8_t> rgb(static_cast<size_t>(frames) * width * height * 3);
  for (uint8_t& v : rgb) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<uint8_t>(seed >> 24);
  }
  return rgb;
}

// Identical frames give identical bytes: a job re-run after a restart (same
// seed, same frames) must return the same video and sha256.
TEST_P(VideoEncoderRoundTrip, IsDeterministic) {
  const Format format = GetParam();
  const int frames = 17, width = 256, height = 160;
  const std::vector<uint8_t> rgb = NoiseFrames(frames, width, height, 12345);
  auto first = Encode(rgb, frames, width, height, format);
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 0; i < 5; ++i) {
    auto again = Encode(rgb, frames, width, height, format);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->bytes == first->bytes) << "run " << i << " differs";
  }
}

// Encodings running at the same time in one process (a server's workers)
// still give identical bytes for identical frames.
TEST_P(VideoEncoderRoundTrip, IsDeterministicWhenEncodingsRunConcurrently) {
  const Format format = GetParam();
  const int frames = 17, width = 256, height = 160, threads = 4, rounds = 3;
  const std::vector<uint8_t> rgb = NoiseFrames(frames, width, height, 777);
  auto reference = Encode(rgb, frames, width, height, format);
  ASSERT_TRUE(reference.ok()) << reference.status();
  std::vector<std::vector<std::string>> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        auto encoded = Encode(rgb, frames, width, height, format);
        results[t].push_back(encoded.ok() ? encoded->bytes : encoded.status().ToString());
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (int t = 0; t < threads; ++t) {
    for (int r = 0; r < rounds; ++r) {
      EXPECT_TRUE(results[t][r] == reference->bytes) << "thread " << t << " round " << r << " differs";
    }
  }
}

// A gradient under a checkerboard moving one square per frame (what the
// fake model makes: B-frames and motion search have work to do).
std::vector<uint8_t> MovingCheckerboard(int frames, int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(frames) * width * height * 3);
  size_t i = 0;
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        rgb[i++] = static_cast<uint8_t>(x * 4 + f * 8 + 0x89);
        rgb[i++] = static_cast<uint8_t>(y * 4 + 0x67);
        rgb[i++] = static_cast<uint8_t>(((x / 8 + y / 8 + f) % 2) * 160 + 0x25);
      }
    }
  }
  return rgb;
}

// The bytes do not depend on what the process's heap held before: glibc's
// malloc is told to fill every block with a fixed byte (M_PERTURB), once
// 0x55 and once 0xaa, and the encodings must equal the unperturbed one. This
// failed with libx264's B-frames on (it read uninitialised lookahead memory:
// a server gave 4 different files from 12 runs of one request and seed).
TEST_P(VideoEncoderRoundTrip, IsDeterministicWhateverTheHeapHeld) {
  const Format format = GetParam();
  for (const auto& [width, height] : {std::pair{64, 48}, std::pair{320, 192}}) {
    const int frames = 9;
    const std::vector<uint8_t> rgb = MovingCheckerboard(frames, width, height);
    auto reference = Encode(rgb, frames, width, height, format);
    ASSERT_TRUE(reference.ok()) << reference.status();
    for (int perturb : {0x55, 0xaa}) {
      ASSERT_EQ(mallopt(M_PERTURB, perturb), 1);
      auto encoded = Encode(rgb, frames, width, height, format);
      ASSERT_EQ(mallopt(M_PERTURB, 0), 1);
      ASSERT_TRUE(encoded.ok()) << encoded.status();
      EXPECT_TRUE(encoded->bytes == reference->bytes)
          << width << "x" << height << " with the heap filled with " << perturb << " differs";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Containers, VideoEncoderRoundTrip,
                         ::testing::Values(Format{VideoContainer::kMp4H264, "mp4", "h264"},
                                           Format{VideoContainer::kWebmVp9, "webm", "vp9"}),
                         [](const ::testing::TestParamInfo<Format>& info) {
                           return std::string(info.param.extension);
                         });

class VideoEncoderErrors : public ::testing::Test {
 protected:
  absl::Status Encode(int frames, int width, int height, const VideoEncodeOptions& options,
                      size_t size_delta = 0) {
    const size_t size = frames > 0 && width > 0 && height > 0
                            ? static_cast<size_t>(frames) * width * height * 3 : 0;
    std::vector<uint8_t> rgb(size + size_delta + 1);
    return EncodeVideo(rgb.data(), size + size_delta, frames, width, height, options).status();
  }
};

void ExpectInvalid(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(field));
}

TEST_F(VideoEncoderErrors, InvalidArgumentsNameTheField) {
  const VideoEncodeOptions ok;
  ExpectInvalid(Encode(0, 16, 16, ok), "frames");
  ExpectInvalid(Encode(-3, 16, 16, ok), "frames");
  ExpectInvalid(Encode(2, 0, 16, ok), "width");
  ExpectInvalid(Encode(2, 16384 + 2, 2, ok), "width");
  ExpectInvalid(Encode(2, 16, -1, ok), "height");
  ExpectInvalid(Encode(2, 16, 16, ok, /*size_delta=*/1), "rgb size");
  VideoEncodeOptions options;
  for (double fps : {0.0, -16.0, 1e9, std::nan(""), HUGE_VAL}) {
    options.fps = fps;
    ExpectInvalid(Encode(2, 16, 16, options), "fps");
  }
  options = VideoEncodeOptions{};
  for (int quality : {-1, 101}) {
    options.quality = quality;
    ExpectInvalid(Encode(2, 16, 16, options), "quality");
  }
  ExpectInvalid(EncodeVideo(nullptr, 0, 1, 16, 16, ok).status(), "rgb");
}

TEST_F(VideoEncoderErrors, CancelledTokenStopsTheEncoding) {
  const std::vector<uint8_t> rgb = GradientVideo(3, 16, 16);
  CancelToken cancel;
  cancel.Cancel();
  const absl::Status status =
      EncodeVideo(rgb.data(), rgb.size(), 3, 16, 16, VideoEncodeOptions{}, &cancel).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("video encoding"));
}

TEST_F(VideoEncoderErrors, PassedDeadlineReturnsDeadlineExceeded) {
  const std::vector<uint8_t> rgb = GradientVideo(3, 16, 16);
  CancelToken cancel(CancelToken::Clock::now() - std::chrono::seconds(1));
  VideoEncodeOptions options;
  options.container = VideoContainer::kWebmVp9;
  const absl::Status status =
      EncodeVideo(rgb.data(), rgb.size(), 3, 16, 16, options, &cancel).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

TEST(VideoContainerName, NamesBothContainers) {
  EXPECT_STREQ(VideoContainerName(VideoContainer::kMp4H264), "mp4");
  EXPECT_STREQ(VideoContainerName(VideoContainer::kWebmVp9), "webm");
}

}  // namespace
}  // namespace videogen::media

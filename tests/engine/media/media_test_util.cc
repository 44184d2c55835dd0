#include "tests/engine/media/media_test_util.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace videogen::media::testing {
namespace {

template <typename T, void (*Free)(T**)>
struct Deleter {
  void operator()(T* p) const { Free(&p); }
};
void FreeSws(SwsContext** p) { sws_freeContext(*p); }
void FreeIo(AVIOContext** p) {
  if (*p != nullptr) av_freep(&(*p)->buffer);
  avio_context_free(p);
}
using CodecPtr = std::unique_ptr<AVCodecContext, Deleter<AVCodecContext, avcodec_free_context>>;
using FramePtr = std::unique_ptr<AVFrame, Deleter<AVFrame, av_frame_free>>;
using PacketPtr = std::unique_ptr<AVPacket, Deleter<AVPacket, av_packet_free>>;
using InputPtr = std::unique_ptr<AVFormatContext, Deleter<AVFormatContext, avformat_close_input>>;
using IoPtr = std::unique_ptr<AVIOContext, Deleter<AVIOContext, FreeIo>>;
using SwsPtr = std::unique_ptr<SwsContext, Deleter<SwsContext, FreeSws>>;

absl::Status AvError(const char* what, int error) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(error, text, sizeof(text));
  return absl::InternalError(absl::StrCat(what, ": ", text));
}

uint8_t Clamp(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

struct Reader {
  const std::string* data;
  int64_t position = 0;

  static int Read(void* opaque, uint8_t* buffer, int size) {
    auto* self = static_cast<Reader*>(opaque);
    const int64_t left = static_cast<int64_t>(self->data->size()) - self->position;
    if (left <= 0) return AVERROR_EOF;
    const int n = static_cast<int>(std::min<int64_t>(left, size));
    std::memcpy(buffer, self->data->data() + self->position, n);
    self->position += n;
    return n;
  }
  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<Reader*>(opaque);
    const auto size = static_cast<int64_t>(self->data->size());
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return size;
    int64_t target = whence == SEEK_SET ? offset
                     : whence == SEEK_CUR ? self->position + offset
                     : whence == SEEK_END ? size + offset
                                          : -1;
    if (target < 0 || target > size) return AVERROR(EINVAL);
    self->position = target;
    return target;
  }
};

// Converts any decoded frame to packed RGB24, honouring its matrix and range.
absl::StatusOr<pipeline::RgbImage> FrameToRgb(const AVFrame& frame) {
  SwsPtr sws(sws_getContext(frame.width, frame.height, static_cast<AVPixelFormat>(frame.format),
                            frame.width, frame.height, AV_PIX_FMT_RGB24,
                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr,
                            nullptr));
  if (!sws) return absl::InternalError("sws_getContext");
  sws_setColorspaceDetails(sws.get(), sws_getCoefficients(frame.colorspace),
                           frame.color_range == AVCOL_RANGE_JPEG ? 1 : 0,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  pipeline::RgbImage image;
  image.width = frame.width;
  image.height = frame.height;
  image.rgb.resize(static_cast<size_t>(frame.width) * frame.height * 3);
  uint8_t* dst[1] = {image.rgb.data()};
  const int dst_stride[1] = {frame.width * 3};
  if (sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride) !=
      frame.height) {
    return absl::InternalError("sws_scale");
  }
  return image;
}

// Fills `frame` (allocated, of frame->format) from packed RGB24 with BT.601
// coefficients in `full_range` or limited range.
absl::Status RgbToFrame(const pipeline::RgbImage& image, AVPixelFormat sws_format,
                        bool full_range, AVFrame* frame) {
  SwsPtr sws(sws_getContext(image.width, image.height, AV_PIX_FMT_RGB24, image.width, image.height,
                            sws_format, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr));
  if (!sws) return absl::InternalError("sws_getContext");
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws.get(), bt601, 1, bt601, full_range ? 1 : 0, 0, 1 << 16, 1 << 16);
  const uint8_t* src[1] = {image.rgb.data()};
  const int src_stride[1] = {image.width * 3};
  if (sws_scale(sws.get(), src, src_stride, 0, image.height, frame->data, frame->linesize) !=
      image.height) {
    return absl::InternalError("sws_scale");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<uint8_t> GradientVideo(int frames, int width, int height) {
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(frames) * width * height * 3);
  for (int t = 0; t < frames; ++t) {
    const pipeline::RgbImage image = GradientImage(width, height, t);
    out.insert(out.end(), image.rgb.begin(), image.rgb.end());
  }
  return out;
}

pipeline::RgbImage GradientImage(int width, int height, int t) {
  pipeline::RgbImage image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  const int wx = std::max(width - 1, 1), hy = std::max(height - 1, 1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = Clamp(20 + x * 200 / wx + 2 * t);
      p[1] = Clamp(20 + y * 200 / hy);
      p[2] = Clamp(230 - (x + y) * 200 / (wx + hy) - t);
    }
  }
  return image;
}

absl::StatusOr<DecodedVideo> DecodeVideo(const std::string& bytes) {
  Reader reader{&bytes};
  constexpr int kBufferSize = 32 * 1024;
  auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
  IoPtr io(avio_alloc_context(buffer, kBufferSize, 0, &reader, &Reader::Read, nullptr,
                              &Reader::Seek));
  if (!io) {
    av_free(buffer);
    return absl::ResourceExhaustedError("avio_alloc_context");
  }
  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return absl::ResourceExhaustedError("avformat_alloc_context");
  raw->pb = io.get();
  int ret = avformat_open_input(&raw, nullptr, nullptr, nullptr);  // frees raw on failure
  if (ret < 0) return AvError("avformat_open_input", ret);
  InputPtr input(raw);
  ret = avformat_find_stream_info(input.get(), nullptr);
  if (ret < 0) return AvError("avformat_find_stream_info", ret);
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (index < 0) return AvError("av_find_best_stream", index);
  AVStream* stream = input->streams[index];

  CodecPtr decoder(avcodec_alloc_context3(codec));
  if (!decoder) return absl::ResourceExhaustedError("avcodec_alloc_context3");
  ret = avcodec_parameters_to_context(decoder.get(), stream->codecpar);
  if (ret < 0) return AvError("avcodec_parameters_to_context", ret);
  decoder->thread_count = 1;
  ret = avcodec_open2(decoder.get(), codec, nullptr);
  if (ret < 0) return AvError("avcodec_open2", ret);

  DecodedVideo video;
  video.format = input->iformat->name;
  video.codec = avcodec_get_name(stream->codecpar->codec_id);
  video.width = stream->codecpar->width;
  video.height = stream->codecpar->height;
  video.rate_num = stream->r_frame_rate.num;
  video.rate_den = stream->r_frame_rate.den;
  if (input->duration != AV_NOPTS_VALUE) video.duration_s = input->duration / double{AV_TIME_BASE};

  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  const auto drain = [&]() -> absl::Status {
    while (true) {
      const int r = avcodec_receive_frame(decoder.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return absl::OkStatus();
      if (r < 0) return AvError("avcodec_receive_frame", r);
      absl::StatusOr<pipeline::RgbImage> rgb = FrameToRgb(*frame);
      av_frame_unref(frame.get());
      if (!rgb.ok()) return rgb.status();
      video.frames.push_back(*std::move(rgb));
    }
  };
  while ((ret = av_read_frame(input.get(), packet.get())) >= 0) {
    if (packet->stream_index == index) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      av_packet_unref(packet.get());
      if (sent < 0) return AvError("avcodec_send_packet", sent);
      if (absl::Status s = drain(); !s.ok()) return s;
    } else {
      av_packet_unref(packet.get());
    }
  }
  if (ret != AVERROR_EOF) return AvError("av_read_frame", ret);
  ret = avcodec_send_packet(decoder.get(), nullptr);
  if (ret < 0) return AvError("avcodec_send_packet (flush)", ret);
  if (absl::Status s = drain(); !s.ok()) return s;
  return video;
}

absl::StatusOr<FfprobeResult> RunFfprobe(const std::string& bytes, const std::string& extension) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = absl::StrCat(tmpdir ? tmpdir : "/tmp", "/videogen_media_XXXXXX.", extension);
  const int fd = mkstemps(path.data(), static_cast<int>(extension.size()) + 1);
  if (fd < 0) return absl::InternalError("mkstemps failed");
  const bool written = write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  close(fd);
  std::string output;
  int exit_code = -1;
  if (written) {
    const std::string command = absl::StrCat(
        "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
        "stream=codec_name,width,height,nb_read_frames,r_frame_rate,color_space,color_range:"
        "format=duration -of json '",
        path, "' 2>&1");
    if (FILE* pipe = popen(command.c_str(), "r")) {
      std::array<char, 4096> chunk;
      size_t n;
      while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0) output.append(chunk.data(), n);
      exit_code = pclose(pipe);
    }
  }
  unlink(path.c_str());
  if (!written) return absl::InternalError("cannot write the temporary file");
  if (exit_code != 0) return absl::InternalError(absl::StrCat("ffprobe failed: ", output));

  const nlohmann::json json = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("streams") || json["streams"].empty()) {
    return absl::InternalError(absl::StrCat("unexpected ffprobe output: ", output));
  }
  const nlohmann::json& s = json["streams"][0];
  FfprobeResult result;
  result.codec_name = s.value("codec_name", "");
  result.width = s.value("width", 0);
  result.height = s.value("height", 0);
  result.r_frame_rate = s.value("r_frame_rate", "");
  result.color_space = s.value("color_space", "");
  result.color_range = s.value("color_range", "");
  result.nb_read_frames = std::atoll(s.value("nb_read_frames", "0").c_str());
  if (json.contains("format") && json["format"].contains("duration")) {
    result.duration_s = std::atof(json["format"]["duration"].get<std::string>().c_str());
  }
  return result;
}

absl::StatusOr<std::string> EncodeImage(ImageKind kind, const pipeline::RgbImage& image,
                                        const std::string& png_pixel_format) {
  const char* encoder_name = kind == ImageKind::kPng    ? "png"
                             : kind == ImageKind::kJpeg ? "mjpeg"
                                                        : "libwebp";
  const AVCodec* codec = avcodec_find_encoder_by_name(encoder_name);
  if (codec == nullptr) return absl::UnimplementedError(absl::StrCat("no encoder ", encoder_name));
  CodecPtr encoder(avcodec_alloc_context3(codec));
  FramePtr frame(av_frame_alloc());
  PacketPtr packet(av_packet_alloc());
  if (!encoder || !frame || !packet) return absl::ResourceExhaustedError("alloc");

  AVPixelFormat format = AV_PIX_FMT_NONE;
  AVPixelFormat sws_format = AV_PIX_FMT_NONE;
  bool full_range = true;
  switch (kind) {
    case ImageKind::kPng:
      format = sws_format = av_get_pix_fmt(png_pixel_format.c_str());
      if (format == AV_PIX_FMT_NONE) return absl::InvalidArgumentError(png_pixel_format);
      break;
    case ImageKind::kJpeg:
      format = AV_PIX_FMT_YUVJ420P;
      sws_format = AV_PIX_FMT_YUV420P;  // same layout; full range set below
      encoder->flags |= AV_CODEC_FLAG_QSCALE;
      encoder->global_quality = FF_QP2LAMBDA * 2;
      frame->quality = encoder->global_quality;
      break;
    case ImageKind::kWebpLossless:
      format = sws_format = AV_PIX_FMT_RGB32;
      av_opt_set_int(encoder->priv_data, "lossless", 1, 0);
      break;
    case ImageKind::kWebpLossy:
    case ImageKind::kWebpAlpha:
      format = sws_format = kind == ImageKind::kWebpAlpha ? AV_PIX_FMT_YUVA420P : AV_PIX_FMT_YUV420P;
      full_range = false;
      av_opt_set_double(encoder->priv_data, "quality", 95, 0);
      break;
  }
  encoder->width = image.width;
  encoder->height = image.height;
  encoder->pix_fmt = format;
  encoder->time_base = AVRational{1, 25};
  int ret = avcodec_open2(encoder.get(), codec, nullptr);
  if (ret < 0) return AvError("avcodec_open2", ret);

  frame->format = format;
  frame->width = image.width;
  frame->height = image.height;
  frame->pts = 0;
  ret = av_frame_get_buffer(frame.get(), 0);
  if (ret < 0) return AvError("av_frame_get_buffer", ret);
  if (absl::Status s = RgbToFrame(image, sws_format, full_range, frame.get()); !s.ok()) return s;
  if (kind == ImageKind::kWebpAlpha) {
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        frame->data[3][y * frame->linesize[3] + x] = static_cast<uint8_t>(64 + (x * 12) % 192);
      }
    }
  }
  ret = avcodec_send_frame(encoder.get(), frame.get());
  if (ret < 0) return AvError("avcodec_send_frame", ret);
  ret = avcodec_send_frame(encoder.get(), nullptr);
  if (ret < 0) return AvError("avcodec_send_frame (flush)", ret);
  ret = avcodec_receive_packet(encoder.get(), packet.get());
  if (ret < 0) return AvError("avcodec_receive_packet", ret);
  return std::string(reinterpret_cast<const char*>(packet->data), packet->size);
}

PixelDiff Compare(const uint8_t* a, const uint8_t* b, size_t size) {
  PixelDiff diff;
  uint64_t total = 0;
  for (size_t i = 0; i < size; ++i) {
    const int d = std::abs(int{a[i]} - int{b[i]});
    diff.max_abs = std::max(diff.max_abs, d);
    total += static_cast<uint64_t>(d);
  }
  diff.mean_abs = size == 0 ? 0 : static_cast<double>(total) / static_cast<double>(size);
  return diff;
}

uint32_t PngCrc(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace videogen::media::testing

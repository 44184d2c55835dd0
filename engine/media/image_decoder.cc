// DecodeImage: limits first, then libavcodec (png, mjpeg, webp) + swscale.
#include "engine/media/image_decoder.h"

#include <climits>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/media/libav_util.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace videogen::media {
namespace {

using internal::AvErrorString;

absl::Status CheckLimits(const ImageInfo& info, const ImageLimits& limits) {
  if (info.width > limits.max_width) {
    return absl::InvalidArgumentError(absl::StrCat("image: width ", info.width,
                                                   " exceeds the limit max_width=", limits.max_width));
  }
  if (info.height > limits.max_height) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image: height ", info.height, " exceeds the limit max_height=", limits.max_height));
  }
  const int64_t pixels = int64_t{info.width} * info.height;
  if (pixels > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat("image: ", info.width, "x", info.height, " = ",
                                                   pixels, " pixels exceeds the limit max_pixels=",
                                                   limits.max_pixels));
  }
  return absl::OkStatus();
}

// Decoder failures on untrusted data are the caller's data being wrong,
// except running out of memory.
absl::Status DecodeError(const ImageInfo& info, const char* what, int error) {
  if (error == AVERROR(ENOMEM)) {
    return absl::ResourceExhaustedError(absl::StrCat("image: ", what, ": out of memory"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("image: cannot decode ", info.format, ": ", what, ": ", AvErrorString(error)));
}

AVCodecID CodecOf(const std::string& format) {
  if (format == "png") return AV_CODEC_ID_PNG;
  if (format == "jpeg") return AV_CODEC_ID_MJPEG;
  return AV_CODEC_ID_WEBP;
}

// yuvj* formats are yuv* in full range; swscale wants the latter.
AVPixelFormat Unjpeg(AVPixelFormat format, bool* full_range) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: *full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full_range = true; return AV_PIX_FMT_YUV411P;
    default: return format;
  }
}

absl::StatusOr<pipeline::RgbImage> ToRgb(const AVFrame& frame) {
  bool full_range = frame.color_range == AVCOL_RANGE_JPEG;
  const AVPixelFormat source = Unjpeg(static_cast<AVPixelFormat>(frame.format), &full_range);
  internal::SwsPtr sws(sws_getContext(frame.width, frame.height, source, frame.width, frame.height,
                                      AV_PIX_FMT_RGB24,
                                      SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                      nullptr, nullptr, nullptr));
  if (!sws) {
    return absl::InvalidArgumentError(absl::StrCat("image: unsupported pixel format ",
                                                   av_get_pix_fmt_name(source) ? av_get_pix_fmt_name(source) : "?"));
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(source);
  if (desc != nullptr && !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3) {
    const int* coefficients = sws_getCoefficients(frame.colorspace);
    if (sws_setColorspaceDetails(sws.get(), coefficients, full_range ? 1 : 0,
                                 sws_getCoefficients(SWS_CS_DEFAULT), /*dstRange=*/1, 0, 1 << 16,
                                 1 << 16) < 0) {
      return absl::InternalError("sws_setColorspaceDetails failed");
    }
  }
  // Convert into an aligned frame (swscale's SIMD paths), then pack the rows.
  internal::FramePtr rgb(av_frame_alloc());
  if (!rgb) return absl::ResourceExhaustedError("image: cannot allocate a frame");
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = frame.width;
  rgb->height = frame.height;
  int ret = av_frame_get_buffer(rgb.get(), 0);
  if (ret < 0) return absl::ResourceExhaustedError("image: cannot allocate the RGB frame");
  ret = sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, rgb->data, rgb->linesize);
  if (ret != frame.height) return absl::InternalError("sws_scale: conversion to RGB24 failed");

  pipeline::RgbImage image;
  image.width = frame.width;
  image.height = frame.height;
  const size_t row = static_cast<size_t>(frame.width) * 3;
  image.rgb.resize(row * frame.height);
  for (int y = 0; y < frame.height; ++y) {
    std::memcpy(image.rgb.data() + row * y, rgb->data[0] + static_cast<size_t>(rgb->linesize[0]) * y,
                row);
  }
  return image;
}

}  // namespace

absl::StatusOr<pipeline::RgbImage> DecodeImage(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("image: ", bytes.size(),
                                                   " bytes exceeds the limit max_bytes=",
                                                   limits.max_bytes));
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)) {
    return absl::InvalidArgumentError(absl::StrCat("image: ", bytes.size(), " bytes is too large"));
  }
  ASSIGN_OR_RETURN(const ImageInfo info, ProbeImage(bytes));
  RETURN_IF_ERROR(CheckLimits(info, limits));

  const AVCodec* codec = avcodec_find_decoder(CodecOf(info.format));
  if (codec == nullptr) {
    return absl::UnimplementedError(absl::StrCat("image: no ", info.format, " decoder"));
  }
  internal::CodecContextPtr context(avcodec_alloc_context3(codec));
  internal::PacketPtr packet(av_packet_alloc());
  internal::FramePtr frame(av_frame_alloc());
  if (!context || !packet || !frame) {
    return absl::ResourceExhaustedError("image: cannot allocate the decoder");
  }
  context->thread_count = 1;
  // Second line of defence: whatever size a later header inside the data
  // claims, libavcodec refuses to allocate more pixels than the limit.
  context->max_pixels = limits.max_pixels;
  context->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;
  int ret = avcodec_open2(context.get(), codec, nullptr);
  if (ret < 0) return internal::AvInternal("avcodec_open2", ret);

  ret = av_new_packet(packet.get(), static_cast<int>(bytes.size()));
  if (ret < 0) return absl::ResourceExhaustedError("image: cannot allocate the packet");
  std::memcpy(packet->data, bytes.data(), bytes.size());

  ret = avcodec_send_packet(context.get(), packet.get());
  if (ret < 0) return DecodeError(info, "send", ret);
  ret = avcodec_receive_frame(context.get(), frame.get());
  if (ret == AVERROR(EAGAIN)) {
    ret = avcodec_send_packet(context.get(), nullptr);  // drain
    if (ret < 0) return DecodeError(info, "drain", ret);
    ret = avcodec_receive_frame(context.get(), frame.get());
  }
  if (ret == AVERROR_EOF) return absl::InvalidArgumentError("image: no picture in the data");
  if (ret < 0) return DecodeError(info, "receive", ret);

  if (frame->width != info.width || frame->height != info.height) {
    return absl::InvalidArgumentError(absl::StrCat("image: decoded size ", frame->width, "x",
                                                   frame->height, " differs from the header's ",
                                                   info.width, "x", info.height));
  }
  return ToRgb(*frame);
}

}  // namespace videogen::media

#include "engine/media/video_encoder.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/media/libav_util.h"
#include "engine/media/memory_output.h"

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/opt.h>
#include <libavutil/rational.h>
}

namespace videogen::media {
namespace {

using internal::AvInternal;

constexpr int kMaxDimension = 16384;
constexpr double kMaxFps = 1000.0;
constexpr int kMaxRationalTerm = 100000;
constexpr int kEncoderThreads = 2;

struct ContainerSpec {
  const char* muxer;      // libavformat short name
  const char* container;  // EncodedVideo::container
  const char* encoder;    // libavcodec encoder name
  const char* codec;      // EncodedVideo::codec
};

ContainerSpec SpecOf(VideoContainer container) {
  switch (container) {
    case VideoContainer::kWebmVp9: return {"webm", "webm", "libvpx-vp9", "vp9"};
    case VideoContainer::kMp4H264: break;
  }
  return {"mp4", "mp4", "libx264", "h264"};
}

absl::Status ValidateArguments(const uint8_t* rgb, size_t rgb_size, int frames, int width,
                               int height, const VideoEncodeOptions& options) {
  if (frames <= 0) return absl::InvalidArgumentError(absl::StrCat("frames must be > 0, got ", frames));
  if (width < 1 || width > kMaxDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("width must be in [1, ", kMaxDimension, "], got ", width));
  }
  if (height < 1 || height > kMaxDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("height must be in [1, ", kMaxDimension, "], got ", height));
  }
  if (!std::isfinite(options.fps) || options.fps <= 0 || options.fps > kMaxFps) {
    return absl::InvalidArgumentError(
        absl::StrCat("fps must be finite and in (0, ", kMaxFps, "], got ", options.fps));
  }
  if (options.quality && (*options.quality < 0 || *options.quality > 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("quality must be in [0, 100], got ", *options.quality));
  }
  // No overflow: width * height * 3 < 2^30 and frames < 2^31.
  const uint64_t expected = static_cast<uint64_t>(frames) * static_cast<uint64_t>(height) *
                            static_cast<uint64_t>(width) * 3;
  if (rgb == nullptr) return absl::InvalidArgumentError("rgb must not be null");
  if (rgb_size != expected) {
    return absl::InvalidArgumentError(absl::StrCat("rgb size must be frames * height * width * 3 = ",
                                                   expected, " bytes, got ", rgb_size));
  }
  return absl::OkStatus();
}

// Constant-quality factor of `quality` (0..100) on an encoder scale where
// `worst` is the lowest quality and `best` the highest.
int QualityToCrf(int quality, int worst, int best) {
  return static_cast<int>(std::lround(worst + (best - worst) * quality / 100.0));
}

// One encoding: encoder, converter and muxer over a MemoryOutput. Members are
// declared so that destruction frees the muxer before its I/O context and the
// I/O context before the buffer it writes to.
class Encoding {
 public:
  Encoding(const ContainerSpec& spec, int width, int height, AVRational rate)
      : spec_(spec), width_(width), height_(height), rate_(rate) {}

  absl::Status Open(std::optional<int> quality) {
    RETURN_IF_ERROR(OpenEncoder(quality));
    RETURN_IF_ERROR(OpenConverter());
    return OpenMuxer();
  }

  // Converts one even-sized RGB frame (width_ x height_ x 3) and encodes it.
  absl::Status EncodeFrame(const uint8_t* rgb, int64_t index) {
    int ret = av_frame_make_writable(frame_.get());
    if (ret < 0) return AvInternal("av_frame_make_writable", ret);
    const uint8_t* src[1] = {rgb};
    const int src_stride[1] = {width_ * 3};
    ret = sws_scale(sws_.get(), src, src_stride, 0, height_, frame_->data, frame_->linesize);
    if (ret != height_) return absl::InternalError("sws_scale: RGB to YUV conversion failed");
    frame_->pts = index;
    ret = avcodec_send_frame(codec_.get(), frame_.get());
    if (ret < 0) return AvInternal("avcodec_send_frame", ret);
    return WritePackets();
  }

  // Flushes the encoder, writes the trailer and returns the file.
  absl::StatusOr<std::string> Finish() {
    int ret = avcodec_send_frame(codec_.get(), nullptr);
    if (ret < 0) return AvInternal("avcodec_send_frame (flush)", ret);
    RETURN_IF_ERROR(WritePackets());
    ret = av_write_trailer(format_.get());
    if (ret < 0) return AvInternal("av_write_trailer", ret);
    format_.reset();
    io_.reset();
    return std::move(output_.bytes());
  }

 private:
  absl::Status OpenEncoder(std::optional<int> quality) {
    const AVCodec* codec = avcodec_find_encoder_by_name(spec_.encoder);
    if (codec == nullptr) {
      return absl::UnimplementedError(absl::StrCat("encoder ", spec_.encoder, " is not available"));
    }
    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) return absl::ResourceExhaustedError("cannot allocate the encoder context");
    AVCodecContext* c = codec_.get();
    c->width = width_;
    c->height = height_;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->framerate = rate_;
    c->time_base = av_inv_q(rate_);
    const bool vp9 = std::strcmp(spec_.codec, "vp9") == 0;
    c->sample_aspect_ratio = AVRational{1, 1};
    c->color_range = AVCOL_RANGE_MPEG;
    c->colorspace = AVCOL_SPC_BT709;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->thread_count = kEncoderThreads;

    const int crf = quality ? (vp9 ? QualityToCrf(*quality, 63, 0) : QualityToCrf(*quality, 51, 1))
                            : (vp9 ? 32 : 23);
    int ret = av_opt_set_int(c->priv_data, "crf", crf, 0);
    if (ret < 0) return AvInternal("setting crf", ret);
    if (!vp9) {
      // No macroblock-tree ratecontrol: libx264 0.164 (Debian 12) reads
      // uninitialised heap memory in its mbtree lookahead, so identical frames
      // gave different bytes depending on what the process had freed before
      // (filling malloc'd blocks with a fixed byte made the output stable, and
      // changed it with the byte; with B-frames at every size tried, 64x48 ..
      // 1280x720; without B-frames 2 of 1,600 concurrent encodes). mbtree=0:
      // 0 of 1,200 concurrent encodes and 30 contents x 2 fill bytes differed.
      // Cost at CRF 23 (ffmpeg's testsrc2 / mandelbrot, 832x480, 81 frames):
      // +52% / +32% bytes for +5.1 / +2.3 dB PSNR (mbtree spends fewer bits on
      // what later frames do not reference).
      ret = av_opt_set_int(c->priv_data, "mbtree", 0, 0);
      if (ret < 0) return AvInternal("setting mbtree", ret);
    }
    if (vp9) {
      c->bit_rate = 0;  // with crf: constant-quality mode
      for (const auto& [key, value] : {std::pair{"deadline", "good"}, std::pair{"cpu-used", "4"},
                                       std::pair{"row-mt", "1"}}) {
        ret = av_opt_set(c->priv_data, key, value, 0);
        if (ret < 0) return AvInternal(key, ret);
      }
    }
    // Both muxers want the codec headers out of band (avcC / CodecPrivate).
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ret = avcodec_open2(c, codec, nullptr);
    if (ret < 0) return AvInternal(spec_.encoder, ret);

    frame_.reset(av_frame_alloc());
    packet_.reset(av_packet_alloc());
    if (!frame_ || !packet_) return absl::ResourceExhaustedError("cannot allocate frame or packet");
    frame_->format = c->pix_fmt;
    frame_->width = width_;
    frame_->height = height_;
    frame_->color_range = c->color_range;
    frame_->colorspace = c->colorspace;
    frame_->color_primaries = c->color_primaries;
    frame_->color_trc = c->color_trc;
    ret = av_frame_get_buffer(frame_.get(), 0);
    if (ret < 0) return AvInternal("av_frame_get_buffer", ret);
    return absl::OkStatus();
  }

  absl::Status OpenConverter() {
    sws_.reset(sws_getContext(width_, height_, AV_PIX_FMT_RGB24, width_, height_,
                              AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr,
                              nullptr));
    if (!sws_) return absl::InternalError("sws_getContext: RGB24 to YUV420P unsupported");
    const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
    // Full-range RGB in, limited-range BT.709 YUV out.
    if (sws_setColorspaceDetails(sws_.get(), bt709, /*srcRange=*/1, bt709, /*dstRange=*/0, 0,
                                 1 << 16, 1 << 16) < 0) {
      return absl::InternalError("sws_setColorspaceDetails: BT.709 unsupported");
    }
    return absl::OkStatus();
  }

  absl::Status OpenMuxer() {
    AVFormatContext* raw = nullptr;
    int ret = avformat_alloc_output_context2(&raw, nullptr, spec_.muxer, nullptr);
    if (ret < 0 || raw == nullptr) {
      return absl::UnimplementedError(absl::StrCat("muxer ", spec_.muxer, " is not available: ",
                                                   internal::AvErrorString(ret)));
    }
    format_.reset(raw);
    ASSIGN_OR_RETURN(io_, output_.NewIoContext());
    format_->pb = io_.get();
    // Bit-exact muxing: no random segment UID or muxer version string, so
    // identical frames give identical files (a job re-run after a restart
    // returns the same sha256).
    format_->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;

    stream_ = avformat_new_stream(format_.get(), nullptr);
    if (stream_ == nullptr) return absl::ResourceExhaustedError("cannot allocate the stream");
    ret = avcodec_parameters_from_context(stream_->codecpar, codec_.get());
    if (ret < 0) return AvInternal("avcodec_parameters_from_context", ret);
    stream_->time_base = codec_->time_base;
    stream_->avg_frame_rate = rate_;
    stream_->r_frame_rate = rate_;

    AVDictionary* options = nullptr;
    if (std::strcmp(spec_.muxer, "mp4") == 0) {
      // +faststart rereads the output file, which custom I/O cannot; a
      // fragmented MP4 has its moov up front instead.
      ret = av_dict_set(&options, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
      if (ret < 0) return AvInternal("av_dict_set", ret);
    }
    ret = avformat_write_header(format_.get(), &options);
    av_dict_free(&options);
    if (ret < 0) return AvInternal("avformat_write_header", ret);
    return absl::OkStatus();
  }

  // Moves every packet the encoder has ready into the muxer.
  absl::Status WritePackets() {
    while (true) {
      int ret = avcodec_receive_packet(codec_.get(), packet_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return absl::OkStatus();
      if (ret < 0) return AvInternal("avcodec_receive_packet", ret);
      av_packet_rescale_ts(packet_.get(), codec_->time_base, stream_->time_base);
      packet_->stream_index = stream_->index;
      ret = av_interleaved_write_frame(format_.get(), packet_.get());  // unrefs the packet
      if (ret < 0) return AvInternal("av_interleaved_write_frame", ret);
    }
  }

  const ContainerSpec spec_;
  const int width_;
  const int height_;
  const AVRational rate_;

  internal::MemoryOutput output_;
  internal::IoContextPtr io_;
  internal::OutputFormatPtr format_;
  AVStream* stream_ = nullptr;  // owned by format_
  internal::CodecContextPtr codec_;
  internal::SwsPtr sws_;
  internal::FramePtr frame_;
  internal::PacketPtr packet_;
};

// Copies a width x height RGB frame into an even-sized one, repeating the last
// column and row into the padding.
void PadFrame(const uint8_t* src, int width, int height, uint8_t* dst, int padded_width,
              int padded_height) {
  const size_t src_row = static_cast<size_t>(width) * 3;
  const size_t dst_row = static_cast<size_t>(padded_width) * 3;
  for (int y = 0; y < padded_height; ++y) {
    const uint8_t* in = src + static_cast<size_t>(y < height ? y : height - 1) * src_row;
    uint8_t* out = dst + static_cast<size_t>(y) * dst_row;
    std::memcpy(out, in, src_row);
    for (int x = width; x < padded_width; ++x) std::memcpy(out + x * 3, in + (width - 1) * 3, 3);
  }
}

}  // namespace

const char* VideoContainerName(VideoContainer container) { return SpecOf(container).container; }

absl::StatusOr<EncodedVideo> EncodeVideo(const uint8_t* rgb, size_t rgb_size, int frames,
                                         int width, int height,
                                         const VideoEncodeOptions& options,
                                         const CancelToken* cancel) {
  RETURN_IF_ERROR(ValidateArguments(rgb, rgb_size, frames, width, height, options));
  const ContainerSpec spec = SpecOf(options.container);
  const AVRational rate = av_d2q(options.fps, kMaxRationalTerm);
  const int padded_width = width + (width & 1);
  const int padded_height = height + (height & 1);
  const bool padded = padded_width != width || padded_height != height;

  RETURN_IF_ERROR(CheckCancel(cancel, "video encoding"));
  Encoding encoding(spec, padded_width, padded_height, rate);
  RETURN_IF_ERROR(encoding.Open(options.quality));

  const size_t frame_bytes = static_cast<size_t>(width) * height * 3;
  std::vector<uint8_t> padded_frame(padded ? static_cast<size_t>(padded_width) * padded_height * 3
                                           : 0);
  for (int i = 0; i < frames; ++i) {
    RETURN_IF_ERROR(CheckCancel(cancel, "video encoding"));
    const uint8_t* frame = rgb + frame_bytes * i;
    if (padded) {
      PadFrame(frame, width, height, padded_frame.data(), padded_width, padded_height);
      frame = padded_frame.data();
    }
    RETURN_IF_ERROR(encoding.EncodeFrame(frame, i));
  }
  RETURN_IF_ERROR(CheckCancel(cancel, "video encoding"));

  EncodedVideo video;
  ASSIGN_OR_RETURN(video.bytes, encoding.Finish());
  video.container = spec.container;
  video.codec = spec.codec;
  video.width = padded_width;
  video.height = padded_height;
  video.frames = frames;
  video.fps = av_q2d(rate);
  return video;
}

}  // namespace videogen::media

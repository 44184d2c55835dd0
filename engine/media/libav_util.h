// Internal to engine/media: RAII owners for libav objects and libav error
// strings. Every libav object this library allocates is held by one of these
// from the moment it exists, so each error path frees it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace videogen::media::internal {

struct CodecContextDeleter {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};
// Frees the context and its streams; a custom `pb` (AVFMT_FLAG_CUSTOM_IO) is
// not touched and must outlive this owner's reset.
struct OutputFormatDeleter {
  void operator()(AVFormatContext* p) const { avformat_free_context(p); }
};
// For contexts opened with avformat_open_input.
struct InputFormatDeleter {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
// Frees the I/O buffer too: libav may have replaced the one passed to
// avio_alloc_context, so the current ctx->buffer is the one to free.
struct IoContextDeleter {
  void operator()(AVIOContext* p) const {
    if (p == nullptr) return;
    av_freep(&p->buffer);
    avio_context_free(&p);
  }
};

using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using IoContextPtr = std::unique_ptr<AVIOContext, IoContextDeleter>;

// av_strerror text of a libav error code.
std::string AvErrorString(int error);

// Internal("<what>: <libav error>").
absl::Status AvInternal(const char* what, int error);

}  // namespace videogen::media::internal

#include "server/service/video_encoding.h"

#include "engine/media/video_encoder.h"
#include "server/service/sha256.h"

namespace videogen::service {

jobs::ResultEncoder MakeVideoEncoder() {
  return [](const pipeline::GeneratedVideo& video, const jobs::OutputSpec& output,
            const CancelToken& cancel) -> absl::StatusOr<jobs::JobResult> {
    media::VideoEncodeOptions options;
    options.container = output.format == jobs::OutputFormat::kWebmVp9 ? media::VideoContainer::kWebmVp9
                                                                      : media::VideoContainer::kMp4H264;
    options.fps = output.fps.value_or(video.fps);
    options.quality = output.quality;
    auto encoded = media::EncodeVideo(video.rgb.data(), video.rgb.size(), video.frames, video.width, video.height,
                                      options, &cancel);
    if (!encoded.ok()) return encoded.status();
    jobs::JobResult result;
    result.container = encoded->container;
    result.codec = encoded->codec;
    result.width = encoded->width;
    result.height = encoded->height;
    result.frames = encoded->frames;
    result.fps = encoded->fps;
    result.sha256 = Sha256Hex(encoded->bytes);
    result.bytes = std::move(encoded->bytes);
    result.seed = video.seed;
    return result;
  };
}

}  // namespace videogen::service

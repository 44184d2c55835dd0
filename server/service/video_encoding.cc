#include "server/service/video_encoding.h"

#include "engine/common/status_macros.h"
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
    ASSIGN_OR_RETURN(media::EncodedVideo encoded, media::EncodeVideo(video.rgb.data(), video.rgb.size(), video.frames,
                                                                     video.width, video.height, options, &cancel));
    jobs::JobResult result;
    result.container = output.format == jobs::OutputFormat::kWebmVp9 ? jobs::Container::kWebm : jobs::Container::kMp4;
    result.codec = output.format == jobs::OutputFormat::kWebmVp9 ? jobs::Codec::kVp9 : jobs::Codec::kH264;
    result.width = encoded.width;
    result.height = encoded.height;
    result.frames = encoded.frames;
    result.fps = encoded.fps;
    result.sha256 = Sha256Hex(encoded.bytes);
    result.bytes = std::move(encoded.bytes);
    result.seed = video.seed;
    return result;
  };
}

}  // namespace videogen::service

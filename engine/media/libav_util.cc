#include "engine/media/libav_util.h"

#include <string>

extern "C" {
#include <libavutil/error.h>
}

namespace videogen::media::internal {

std::string AvErrorString(int error) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(error, buffer, sizeof(buffer)) < 0) {
    return "libav error " + std::to_string(error);
  }
  return buffer;
}

absl::Status AvInternal(const char* what, int error) {
  return absl::InternalError(std::string(what) + ": " + AvErrorString(error));
}

}  // namespace videogen::media::internal

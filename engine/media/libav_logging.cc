#include "engine/media/libav_logging.h"

extern "C" {
#include <libavutil/log.h>
}

namespace videogen::media {

void SetLibavLogLevel(LibavLogLevel level) {
  switch (level) {
    case LibavLogLevel::kQuiet: av_log_set_level(AV_LOG_QUIET); return;
    case LibavLogLevel::kError: av_log_set_level(AV_LOG_ERROR); return;
    case LibavLogLevel::kWarning: av_log_set_level(AV_LOG_WARNING); return;
    case LibavLogLevel::kInfo: av_log_set_level(AV_LOG_INFO); return;
  }
}

}  // namespace videogen::media

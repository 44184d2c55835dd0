#include "engine/media/libav_logging.h"

#include "gtest/gtest.h"

extern "C" {
#include <libavutil/log.h>
}

namespace videogen::media {
namespace {

TEST(LibavLogging, SetsTheProcessWideLevel) {
  const int saved = av_log_get_level();
  SetLibavLogLevel(LibavLogLevel::kQuiet);
  EXPECT_EQ(av_log_get_level(), AV_LOG_QUIET);
  SetLibavLogLevel(LibavLogLevel::kError);
  EXPECT_EQ(av_log_get_level(), AV_LOG_ERROR);
  SetLibavLogLevel(LibavLogLevel::kWarning);
  EXPECT_EQ(av_log_get_level(), AV_LOG_WARNING);
  SetLibavLogLevel(LibavLogLevel::kInfo);
  EXPECT_EQ(av_log_get_level(), AV_LOG_INFO);
  av_log_set_level(saved);
}

}  // namespace
}  // namespace videogen::media

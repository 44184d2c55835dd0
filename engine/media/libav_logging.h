// libav's log output (encoder statistics at info level, decoder complaints
// about corrupt images at error level) goes to stderr process-wide. The
// server sets the level once from main; libav headers stay private to
// engine/media, so this is the only way for other targets to reach it.
#pragma once

namespace videogen::media {

enum class LibavLogLevel {
  kQuiet,
  kError,
  kWarning,
  kInfo,  // libav's default
};

// Process-wide and not synchronised by libav (a plain global): call once at
// start-up, before any thread encodes or decodes.
void SetLibavLogLevel(LibavLogLevel level);

}  // namespace videogen::media

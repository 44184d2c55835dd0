// Internal to engine/media: the write+seek AVIOContext of a MemoryOutput. Its
// write callback's signature differs by FFmpeg version (libavformat 61, FFmpeg
// 7: `const uint8_t*`; libavformat 59/60, FFmpeg 5 and 6: `uint8_t*`), so this
// one function has a version-specific file chosen in CMakeLists.txt:
// avio_write_context_lavf61.cc or avio_write_context_lavf59.cc.
#pragma once

extern "C" {
#include <libavformat/avio.h>
}

namespace videogen::media::internal {

class MemoryOutput;

// avio_alloc_context(buffer, size, write_flag=1, out, no read,
// MemoryOutput::Write, MemoryOutput::Seek). On success the context owns
// `buffer`; `out` must outlive it. nullptr when libav cannot allocate.
AVIOContext* AllocMemoryOutputContext(unsigned char* buffer, int size, MemoryOutput* out);

}  // namespace videogen::media::internal

// libavformat >= 61 (FFmpeg 7): the write callback takes `const uint8_t*`.
#include "engine/media/avio_write_context.h"

#include "engine/media/memory_output.h"

namespace videogen::media::internal {

AVIOContext* AllocMemoryOutputContext(unsigned char* buffer, int size, MemoryOutput* out) {
  return avio_alloc_context(buffer, size, /*write_flag=*/1, out, /*read_packet=*/nullptr, &MemoryOutput::Write,
                            &MemoryOutput::Seek);
}

}  // namespace videogen::media::internal

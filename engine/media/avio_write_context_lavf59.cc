// libavformat 59/60 (FFmpeg 5, 6): the write callback takes `uint8_t*`.
#include "engine/media/avio_write_context.h"

#include <cstdint>

#include "engine/media/memory_output.h"

namespace videogen::media::internal {
namespace {

int WriteMutable(void* opaque, uint8_t* data, int size) { return MemoryOutput::Write(opaque, data, size); }

}  // namespace

AVIOContext* AllocMemoryOutputContext(unsigned char* buffer, int size, MemoryOutput* out) {
  return avio_alloc_context(buffer, size, /*write_flag=*/1, out, /*read_packet=*/nullptr, &WriteMutable,
                            &MemoryOutput::Seek);
}

}  // namespace videogen::media::internal

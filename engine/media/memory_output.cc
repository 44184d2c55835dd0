#include "engine/media/memory_output.h"

#include "engine/media/avio_write_context.h"

#include <cstring>
#include <limits>
#include <new>

extern "C" {
#include <libavformat/avio.h>
#include <libavutil/mem.h>
}

namespace videogen::media::internal {
namespace {
constexpr int kIoBufferSize = 64 * 1024;
}  // namespace

absl::StatusOr<IoContextPtr> MemoryOutput::NewIoContext() {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return absl::ResourceExhaustedError("cannot allocate the muxer I/O buffer");
  AVIOContext* io = AllocMemoryOutputContext(buffer, kIoBufferSize, this);
  if (io == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("cannot allocate the muxer I/O context");
  }
  return IoContextPtr(io);
}

int MemoryOutput::Write(void* opaque, const uint8_t* data, int size) {
  auto* self = static_cast<MemoryOutput*>(opaque);
  if (size <= 0) return 0;
  const auto end = static_cast<size_t>(self->position_) + static_cast<size_t>(size);
  try {
    if (end > self->bytes_.size()) self->bytes_.resize(end);  // zero-fills a gap after a seek
  } catch (const std::bad_alloc&) {
    return AVERROR(ENOMEM);
  }
  std::memcpy(self->bytes_.data() + self->position_, data, static_cast<size_t>(size));
  self->position_ = static_cast<int64_t>(end);
  return size;
}

int64_t MemoryOutput::Seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<MemoryOutput*>(opaque);
  const auto size = static_cast<int64_t>(self->bytes_.size());
  whence &= ~AVSEEK_FORCE;
  int64_t target = 0;
  switch (whence) {
    case AVSEEK_SIZE: return size;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = self->position_ + offset; break;
    case SEEK_END: target = size + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (target < 0 || target > std::numeric_limits<int32_t>::max()) return AVERROR(EINVAL);
  self->position_ = target;
  return target;
}

}  // namespace videogen::media::internal

// Internal to engine/media: a seekable, growable in-memory sink for libavformat
// muxers. Writes at the current position overwrite or extend the buffer, and
// seeks may move anywhere inside it (or past its end, zero-filling on the next
// write), so muxers that patch headers after the fact (WebM cues, sizes,
// duration) work without a file. Seeks beyond 2 GiB are refused (EINVAL).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/media/libav_util.h"

namespace videogen::media::internal {

// Not thread-safe: owned by one muxing call. The AVIOContext returned by
// NewIoContext() points at this object, which must outlive it.
class MemoryOutput {
 public:
  MemoryOutput() = default;
  MemoryOutput(const MemoryOutput&) = delete;
  MemoryOutput& operator=(const MemoryOutput&) = delete;

  // A write+seek AVIOContext over this buffer (seekable: AVIO_SEEKABLE_NORMAL).
  // Errors: ResourceExhausted when libav cannot allocate.
  absl::StatusOr<IoContextPtr> NewIoContext();

  // Everything written so far. Flush the AVIOContext first.
  std::string& bytes() { return bytes_; }

  // The AVIOContext callbacks (`opaque` is the MemoryOutput*): libav's
  // write_packet and seek contracts (bytes written or an AVERROR).
  static int Write(void* opaque, const uint8_t* data, int size);
  static int64_t Seek(void* opaque, int64_t offset, int whence);

 private:

  std::string bytes_;
  int64_t position_ = 0;
};

}  // namespace videogen::media::internal

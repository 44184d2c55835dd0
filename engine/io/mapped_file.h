// A read-only, shared memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace videogen::io {

// Thread-safe (immutable after Open). Shared by the tensors viewing into it.
class MappedFile {
 public:
  // NotFound when the file does not exist, PermissionDenied/Internal otherwise.
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops the pages fully inside [offset, offset + length) from this process'
  // resident set (MADV_DONTNEED). Later reads fault them in again.
  void Release(size_t offset, size_t length) const;

  // Maps the pages of [offset, offset + length) into this process in one call
  // (MADV_POPULATE_READ, Linux >= 5.14; a no-op where the kernel lacks it),
  // instead of one minor fault per page or fault-around window when they are
  // first read (~10 us each on some VMs). Reading them costs the same RSS.
  void Prefetch(size_t offset, size_t length) const;

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size);
  const std::string path_;
  const uint8_t* const data_;
  const size_t size_;
};

}  // namespace videogen::io

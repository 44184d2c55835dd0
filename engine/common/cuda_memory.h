// CUDA device memory figures, or Unavailable in builds without CUDA. The
// implementation is chosen once, at configure time (CMakeLists.txt):
// cuda_memory_cuda.cc with a CUDA LibTorch, cuda_memory_none.cc otherwise.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace videogen {

struct CudaMemoryInfo {
  uint64_t used = 0;   // total - free, from cudaMemGetInfo (every process on the device)
  uint64_t total = 0;  // from cudaMemGetInfo
  uint64_t peak = 0;   // peak bytes reserved by this process' caching allocator
  uint64_t reserved = 0;  // bytes reserved by this process' caching allocator now
};

// Thread-safe. Unavailable without CUDA; InvalidArgument for a device index
// that does not exist.
absl::StatusOr<CudaMemoryInfo> QueryCudaMemory(int device_index);

// Returns the caching allocator's unused blocks to the driver (after an
// out-of-memory). No-op without CUDA.
void ReleaseCudaCache();

}  // namespace videogen

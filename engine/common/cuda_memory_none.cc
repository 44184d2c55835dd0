#include "engine/common/cuda_memory.h"

namespace videogen {

absl::StatusOr<CudaMemoryInfo> QueryCudaMemory(int) {
  return absl::UnavailableError("this build of videogen has no CUDA (LibTorch without CUDA)");
}

void ReleaseCudaCache() {}

}  // namespace videogen

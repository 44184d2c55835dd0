// Compiled only against a CUDA LibTorch (see CMakeLists.txt).
#include <cuda_runtime_api.h>

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

#include "absl/strings/str_cat.h"
#include "engine/common/cuda_memory.h"

namespace videogen {

absl::StatusOr<CudaMemoryInfo> QueryCudaMemory(int device_index) {
  if (device_index < 0 || device_index >= static_cast<int>(c10::cuda::device_count())) {
    return absl::InvalidArgumentError(absl::StrCat("devices: no CUDA device ", device_index));
  }
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index));
  size_t free_bytes = 0, total_bytes = 0;
  if (const cudaError_t err = cudaMemGetInfo(&free_bytes, &total_bytes); err != cudaSuccess) {
    return absl::InternalError(absl::StrCat("cudaMemGetInfo: ", cudaGetErrorString(err)));
  }
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
  CudaMemoryInfo info;
  info.total = total_bytes;
  info.used = total_bytes - free_bytes;
  info.reserved = static_cast<uint64_t>(stats.reserved_bytes[0].current);  // [0]: StatType::AGGREGATE
  info.peak = static_cast<uint64_t>(stats.reserved_bytes[0].peak);
  return info;
}

void ReleaseCudaCache() { c10::cuda::CUDACachingAllocator::emptyCache(); }

}  // namespace videogen

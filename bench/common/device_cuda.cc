// Compiled only against a CUDA LibTorch (VIDEOGEN_TORCH_HAS_CUDA).
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

#include "absl/strings/str_cat.h"
#include "bench/common/device.h"

namespace videogen::bench {

namespace {

c10::DeviceIndex Index(torch::Device device) { return device.has_index() ? device.index() : 0; }

// StatType::AGGREGATE is index 0 of every StatArray.
constexpr size_t kAggregate = 0;

}  // namespace

void SyncDevice(torch::Device device) {
  if (!device.is_cuda()) return;
  const c10::cuda::CUDAGuard guard(Index(device));
  c10::cuda::device_synchronize();
}

void ResetPeakMemory(torch::Device device) {
  if (!device.is_cuda()) return;
  c10::cuda::CUDACachingAllocator::resetPeakStats(Index(device));
}

uint64_t AllocatedBytes(torch::Device device) {
  if (!device.is_cuda()) return 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(Index(device));
  return static_cast<uint64_t>(stats.allocated_bytes[kAggregate].current);
}

uint64_t PeakAllocatedBytes(torch::Device device) {
  if (!device.is_cuda()) return 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(Index(device));
  return static_cast<uint64_t>(stats.allocated_bytes[kAggregate].peak);
}

std::string DeviceName(torch::Device device) {
  if (!device.is_cuda()) return "cpu";
  const cudaDeviceProp* p = at::cuda::getDeviceProperties(Index(device));
  return absl::StrCat(p->name, " (sm_", p->major, p->minor, ")");
}

int ComputeCapability(torch::Device device) {
  if (!device.is_cuda()) return 0;
  const cudaDeviceProp* p = at::cuda::getDeviceProperties(Index(device));
  return p->major * 10 + p->minor;
}

}  // namespace videogen::bench

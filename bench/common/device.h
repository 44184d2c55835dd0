// The device a bench runs on: parsing --device, synchronising before a host
// clock is read, and the caching allocator's peak. The CUDA implementation
// (device_cuda.cc) is compiled only against a CUDA LibTorch
// (VIDEOGEN_TORCH_HAS_CUDA); device_none.cc otherwise, where every CUDA
// device is reported absent. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::bench {

// "cpu", "cuda" (device 0) or "cuda:N". InvalidArgument naming --device for
// anything else or for a CUDA device this process cannot see.
absl::StatusOr<torch::Device> ParseDevice(const std::string& text);

// Blocks until the work queued on `device` has finished (no-op on the CPU).
void SyncDevice(torch::Device device);

// Resets the peak of the device's caching allocator (no-op on the CPU).
void ResetPeakMemory(torch::Device device);

// Bytes held by tensors on `device` now, and the most since the last
// ResetPeakMemory (allocated, not reserved). 0 on the CPU.
uint64_t AllocatedBytes(torch::Device device);
uint64_t PeakAllocatedBytes(torch::Device device);

// "NVIDIA H200 (sm_90)" for CUDA devices, "cpu" otherwise.
std::string DeviceName(torch::Device device);

// major * 10 + minor of a CUDA device (90 for Hopper); 0 on the CPU.
int ComputeCapability(torch::Device device);

}  // namespace videogen::bench

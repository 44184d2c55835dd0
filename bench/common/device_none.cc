// LibTorch without CUDA: only the CPU exists (ParseDevice refuses cuda).
#include "bench/common/device.h"

namespace videogen::bench {

void SyncDevice(torch::Device) {}
void ResetPeakMemory(torch::Device) {}
uint64_t AllocatedBytes(torch::Device) { return 0; }
uint64_t PeakAllocatedBytes(torch::Device) { return 0; }
std::string DeviceName(torch::Device) { return "cpu"; }
int ComputeCapability(torch::Device) { return 0; }

}  // namespace videogen::bench

// How a weight tensor is named in the residency account (engine/memory/
// residency.h): its precision (1-byte floating storage is fp8 codes) and device.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "engine/common/model_types.h"
#include "engine/memory/residency.h"

namespace videogen::pipeline {

inline Precision PrecisionOfTensor(const torch::Tensor& t) {
  if (t.element_size() == 1) return Precision::kFp8;  // fp8 codes (uint8 or float8_e4m3fn storage)
  switch (t.scalar_type()) {
    case torch::kBFloat16: return Precision::kBf16;
    case torch::kFloat16: return Precision::kFp16;
    default: return Precision::kFp32;
  }
}

inline Device DeviceOfTorch(const torch::Device& d) {
  return d.is_cuda() ? Device::Cuda(d.has_index() ? d.index() : 0) : Device::Cpu();
}

inline Device DeviceOfTensor(const torch::Tensor& t) { return DeviceOfTorch(t.device()); }

inline uint64_t TensorBytes(const torch::Tensor& t) {
  return t.defined() ? static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(t.element_size()) : 0;
}

// The account's key for `t` of `component` once it is on `device`.
inline memory::ResidentKey ResidentKeyOn(Component component, const torch::Tensor& t, const torch::Device& device) {
  return {component, DeviceOfTorch(device), PrecisionOfTensor(t)};
}

}  // namespace videogen::pipeline

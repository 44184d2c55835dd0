// How resident fp8 (e4m3fn) weights are held, chosen once per LibTorch
// version in CMake (the only version-specific code of engine/quant):
//  - LibTorch >= 2.1 (fp8_storage_native.cc): at::kFloat8_e4m3fn tensors;
//  - LibTorch 1.13  (fp8_storage_bytes.cc):   torch::kUInt8 tensors of codes.
// Either way the bytes are the e4m3fn codes of engine/quant/e4m3.h.
#pragma once

#include <torch/types.h>

namespace videogen::quant {

// The dtype of resident fp8 tensors on this build.
torch::ScalarType Fp8StorageType();

// True when `t` has Fp8StorageType().
bool IsFp8Storage(const torch::Tensor& t);

// A view of uint8 `codes` as resident fp8 storage, and back (no copies).
torch::Tensor Fp8StorageFromCodes(const torch::Tensor& codes);
torch::Tensor Fp8CodesFromStorage(const torch::Tensor& storage);

// value = decode(code) * scale as `dtype` for storage on a non-CPU device
// (the CPU path is the LUT kernel of fp8_tensor.h).
torch::Tensor DecodeFp8OnDevice(const torch::Tensor& storage, float scale, torch::ScalarType dtype);

}  // namespace videogen::quant

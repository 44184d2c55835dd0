// LibTorch >= 2.1: resident fp8 weights use the native float8 e4m3fn dtype.
#include <ATen/ATen.h>

#include "engine/quant/fp8_storage.h"

namespace videogen::quant {

torch::ScalarType Fp8StorageType() { return at::kFloat8_e4m3fn; }

bool IsFp8Storage(const torch::Tensor& t) { return t.defined() && t.scalar_type() == at::kFloat8_e4m3fn; }

torch::Tensor Fp8StorageFromCodes(const torch::Tensor& codes) { return codes.view(at::kFloat8_e4m3fn); }

torch::Tensor Fp8CodesFromStorage(const torch::Tensor& storage) { return storage.view(torch::kUInt8); }

torch::Tensor DecodeFp8OnDevice(const torch::Tensor& storage, float scale, torch::ScalarType dtype) {
  torch::Tensor out = storage.to(dtype);
  if (scale != 1.0f) out.mul_(scale);
  return out;
}

}  // namespace videogen::quant

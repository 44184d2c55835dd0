// LibTorch < 2.1: no float8 dtype; resident fp8 weights are uint8 codes.
#include <ATen/ATen.h>

#include "engine/quant/e4m3.h"
#include "engine/quant/fp8_storage.h"

namespace videogen::quant {

torch::ScalarType Fp8StorageType() { return torch::kUInt8; }

bool IsFp8Storage(const torch::Tensor& t) { return t.defined() && t.scalar_type() == torch::kUInt8; }

torch::Tensor Fp8StorageFromCodes(const torch::Tensor& codes) { return codes; }

torch::Tensor Fp8CodesFromStorage(const torch::Tensor& storage) { return storage; }

torch::Tensor DecodeFp8OnDevice(const torch::Tensor& storage, float scale, torch::ScalarType dtype) {
  const auto& table = E4M3DecodeTable();
  const torch::Tensor lut =
      (torch::from_blob(const_cast<float*>(table.data()), {256, 1}, torch::kFloat32) * scale)
          .to(storage.device(), dtype);
  return at::embedding(lut, storage.to(torch::kLong)).view(storage.sizes());
}

}  // namespace videogen::quant

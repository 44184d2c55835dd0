// Tensor-level e4m3fn quantisation: encode/decode kernels and fp8 weights
// with an optional per-tensor scale.
#pragma once

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::quant {

// How a high-precision weight becomes fp8.
enum class Fp8Scaling {
  // value -> e4m3(value), saturating at ±448 (DiffSynth / ComfyUI "fp8_e4m3fn" files).
  kPlainCast,
  // scale = absmax / 448, value -> e4m3(value / scale) (ComfyUI "fp8_scaled").
  kPerTensor,
};

// A resident fp8 weight: the real value is decode(storage) * scale.
struct Fp8Weight {
  torch::Tensor storage;  // Fp8StorageType() (see fp8_storage.h), the weight's shape
  float scale = 1.0f;

  int64_t nbytes() const { return storage.defined() ? storage.numel() : 0; }
};

// max |x| over a floating CPU tensor, in chunks (no full-size temporary);
// NaNs are ignored; 0 for an empty tensor. Uses the intra-op thread pool.
float AbsMax(const torch::Tensor& x);

// uint8 codes [x.shape] = EncodeE4M3(x / scale) for a floating CPU tensor,
// without a full-size float temporary. Uses the intra-op thread pool.
torch::Tensor EncodeE4M3Tensor(const torch::Tensor& x, float scale = 1.0f);

// decode(codes) * scale as `dtype` (float32, bfloat16 or float16): a
// 256-entry table kernel on CPU; DecodeFp8OnDevice elsewhere. `codes` is
// uint8 or Fp8StorageType().
torch::Tensor DecodeE4M3Tensor(const torch::Tensor& codes, float scale, torch::ScalarType dtype);

// The same on the CPU, written into `out`: a contiguous CPU tensor with as
// many elements as `codes` and a floating dtype. Lets a caller reuse one
// buffer for every up-cast (a fresh buffer costs a page fault per 4 KiB on
// every call).
void DecodeE4M3Into(const torch::Tensor& codes, float scale, torch::Tensor& out);

// Quantizes a floating CPU weight (any float dtype; a view into a mapped file
// is fine) and places the codes on `device`. InvalidArgument when `weight` is
// not floating point or not on the CPU, or (kPerTensor) contains non-finite
// values; ResourceExhausted when memory runs out.
absl::StatusOr<Fp8Weight> QuantizeWeight(const torch::Tensor& weight, Fp8Scaling scaling,
                                         torch::Device device = torch::kCPU);

// The weight's value as `dtype` on its device.
torch::Tensor DequantizeWeight(const Fp8Weight& weight, torch::ScalarType dtype);

}  // namespace videogen::quant

#include "engine/quant/fp8_tensor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "engine/common/torch_status.h"
#include "engine/quant/e4m3.h"
#include "engine/quant/e4m3_simd.h"
#include "engine/quant/fp8_storage.h"

namespace videogen::quant {
namespace {

constexpr int64_t kGrain = 1 << 16;

// Runs fn(const float* src, int64_t begin, int64_t n) over the float32 chunks
// [i * kGrain, (i + 1) * kGrain) of the flattened, contiguous `x` in parallel,
// converting other dtypes chunk by chunk.
template <typename Fn>
void ForEachFloatChunk(const torch::Tensor& x, Fn&& fn) {
  const torch::Tensor flat = x.contiguous().view(-1);
  const int64_t n = flat.numel();
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      const int64_t b = c * kGrain;
      const int64_t len = std::min(kGrain, n - b);
      if (flat.scalar_type() == torch::kFloat32) {
        fn(flat.data_ptr<float>() + b, b, len);
      } else {
        const torch::Tensor chunk = flat.narrow(0, b, len).to(torch::kFloat32);
        fn(chunk.data_ptr<float>(), b, len);
      }
    }
  });
}

template <typename T>
void DecodeWithTable(const uint8_t* codes, int64_t n, const std::array<T, 256>& table, T* out) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = table[codes[i]];
  });
}

}  // namespace

float AbsMax(const torch::Tensor& x) {
  const int64_t chunks = (x.numel() + kGrain - 1) / kGrain;
  std::vector<float> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1)), 0.0f);
  const bool simd = HasSimdE4M3Decode();
  ForEachFloatChunk(x, [&](const float* src, int64_t begin, int64_t n) {
    float m = 0.0f;
    if (simd) {
      m = AbsMaxSimd(src, n);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const float a = std::fabs(src[i]);
        m = a > m ? a : m;  // NaN compares false: ignored
      }
    }
    partial[static_cast<size_t>(begin / kGrain)] = m;
  });
  return *std::max_element(partial.begin(), partial.end());
}

torch::Tensor EncodeE4M3Tensor(const torch::Tensor& x, float scale) {
  torch::Tensor codes = torch::empty(x.sizes(), torch::TensorOptions().dtype(torch::kUInt8));
  uint8_t* out = codes.data_ptr<uint8_t>();
  if (HasSimdE4M3Decode()) {
    ForEachFloatChunk(x, [&](const float* src, int64_t begin, int64_t n) { EncodeE4M3Simd(src, n, scale, out + begin); });
  } else if (scale == 1.0f) {
    ForEachFloatChunk(x, [&](const float* src, int64_t begin, int64_t n) {
      for (int64_t i = 0; i < n; ++i) out[begin + i] = EncodeE4M3(src[i]);
    });
  } else {
    ForEachFloatChunk(x, [&](const float* src, int64_t begin, int64_t n) {
      for (int64_t i = 0; i < n; ++i) out[begin + i] = EncodeE4M3(src[i] / scale);
    });
  }
  return codes;
}

torch::Tensor DecodeE4M3Tensor(const torch::Tensor& stored, float scale, torch::ScalarType dtype) {
  if (!stored.device().is_cpu()) return DecodeFp8OnDevice(stored, scale, dtype);
  torch::Tensor out = torch::empty(stored.sizes(), torch::TensorOptions().dtype(dtype));
  DecodeE4M3Into(stored, scale, out);
  return out;
}

void DecodeE4M3Into(const torch::Tensor& stored, float scale, torch::Tensor& out) {
  const torch::ScalarType dtype = out.scalar_type();
  const torch::Tensor codes = (IsFp8Storage(stored) ? Fp8CodesFromStorage(stored) : stored).contiguous();
  const auto& base = E4M3DecodeTable();
  const uint8_t* src = codes.data_ptr<uint8_t>();
  const int64_t n = codes.numel();
  const bool simd = HasSimdE4M3Decode();
  if (simd && dtype == torch::kFloat32) {
    float* dst = out.data_ptr<float>();
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { DecodeE4M3ToF32Simd(src + b, e - b, scale, dst + b); });
    return;
  }
  if (simd && dtype == torch::kBFloat16) {
    uint16_t* dst = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
    const bool vbmi = HasVbmiE4M3Decode();
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      if (vbmi) {
        DecodeE4M3ToBf16Vbmi(src + b, e - b, scale, dst + b);
      } else {
        DecodeE4M3ToBf16Simd(src + b, e - b, scale, dst + b);
      }
    });
    return;
  }
  switch (dtype) {
    case torch::kFloat32: {
      std::array<float, 256> table;
      for (int c = 0; c < 256; ++c) table[c] = base[c] * scale;
      DecodeWithTable(src, n, table, out.data_ptr<float>());
      break;
    }
    case torch::kBFloat16: {
      std::array<at::BFloat16, 256> table;
      for (int c = 0; c < 256; ++c) table[c] = at::BFloat16(base[c] * scale);
      DecodeWithTable(src, n, table, out.data_ptr<at::BFloat16>());
      break;
    }
    case torch::kFloat16: {
      std::array<at::Half, 256> table;
      for (int c = 0; c < 256; ++c) table[c] = at::Half(base[c] * scale);
      DecodeWithTable(src, n, table, out.data_ptr<at::Half>());
      break;
    }
    default: {
      std::array<float, 256> table;
      for (int c = 0; c < 256; ++c) table[c] = base[c] * scale;
      torch::Tensor f = torch::empty(codes.sizes(), torch::TensorOptions().dtype(torch::kFloat32));
      DecodeWithTable(src, n, table, f.data_ptr<float>());
      out.copy_(f);
    }
  }
}

absl::StatusOr<Fp8Weight> QuantizeWeight(const torch::Tensor& weight, Fp8Scaling scaling, torch::Device device) {
  if (!weight.defined() || !torch::isFloatingType(weight.scalar_type())) {
    return absl::InvalidArgumentError("weight: fp8 quantization needs a floating-point tensor");
  }
  if (!weight.device().is_cpu()) return absl::InvalidArgumentError("weight: fp8 quantization reads CPU tensors");
  return TorchCall("fp8 quantization", [&]() -> absl::StatusOr<Fp8Weight> {
    Fp8Weight w;
    if (scaling == Fp8Scaling::kPerTensor) {
      const float absmax = AbsMax(weight);
      if (!std::isfinite(absmax)) return absl::InvalidArgumentError("weight: non-finite values cannot be scaled");
      w.scale = absmax > 0.0f ? absmax / kE4M3Max : 1.0f;
    }
    torch::Tensor codes = EncodeE4M3Tensor(weight, w.scale);
    if (!device.is_cpu()) codes = codes.to(device);
    w.storage = Fp8StorageFromCodes(codes);
    return w;
  });
}

torch::Tensor DequantizeWeight(const Fp8Weight& weight, torch::ScalarType dtype) {
  return DecodeE4M3Tensor(weight.storage, weight.scale, dtype);
}

}  // namespace videogen::quant

#include "engine/models/dit/fused_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include "engine/models/common/vector_math.h"

namespace videogen::models {
namespace {

constexpr int64_t kRowGrain = 16;

// gelu_tanh(x) = x * sigmoid(2u) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
inline float GeluTanh(float x) {
  const float u = 0.797884560802865356f * (x + 0.044715f * x * x * x);
  return x / (1.0f + vec::ExpClamped(-2.0f * u));
}

// bf16/fp16 <-> float32 without c10's per-element branch, so the loops
// vectorise; the same values (round to nearest even, NaN stays NaN).
inline float ToFloat(c10::BFloat16 v) { return vec::Bf16BitsToFloat(v.x); }
inline float ToFloat(c10::Half v) { return static_cast<float>(v); }
template <typename T>
T Round(float f);
template <>
inline c10::BFloat16 Round<c10::BFloat16>(float f) {
  return c10::BFloat16(vec::FloatToBf16Bits(f), c10::BFloat16::from_bits());
}
template <>
inline c10::Half Round<c10::Half>(float f) {
  return static_cast<c10::Half>(f);
}

template <typename T>
void GeluTanhRange(T* x, int64_t n) {
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    for (int64_t i = 0; i < n; ++i) x[i] = Round<T>(GeluTanh(ToFloat(x[i])));
  });
}

// The sum of term(x[i]) for i in [0, n), in kLanes partial sums of Acc (one
// vector), then the tail, then the partial sums in order: deterministic, and
// vectorised without reassociation.
template <typename Acc, int64_t kLanes, typename T, typename Term>
VIDEOGEN_VECTOR_LOOP inline Acc LaneSum(const T* x, int64_t n, const Term& term) {
  Acc part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) part[j] += term(x[i + j]);
  }
  Acc total = 0;
  for (; i < n; ++i) total += term(x[i]);
  for (int64_t j = 0; j < kLanes; ++j) total += part[j];
  return total;
}

// Stride of dimension `dim` of a modulation / gate row tensor, 0 where it broadcasts (size 1).
int64_t BroadcastStride(const torch::Tensor& t, int64_t dim) { return t.size(dim) == 1 ? 0 : t.stride(dim); }

// A modulation or gate tensor as float32 [B or 1, 1 or L, C] with unit-stride rows.
torch::Tensor ModulationRows(const torch::Tensor& m) {
  if (!m.defined()) return m;
  torch::Tensor r = m.to(torch::kFloat32);
  while (r.dim() < 3) r = r.unsqueeze(0);
  return r.stride(2) == 1 ? r : r.contiguous();
}

template <typename T>
void ModulatedLayerNormRows(const torch::Tensor& x, const torch::Tensor& shift, const torch::Tensor& scale, double eps,
                            torch::Tensor& out) {
  const int64_t batch = x.size(0), len = x.size(1), c = x.size(2);
  const float* xp = x.data_ptr<float>();
  const float* sp = shift.data_ptr<float>();
  const float* cp = scale.data_ptr<float>();
  // Strides of the broadcast [B, 1 or L, C] modulation rows (0 where broadcast).
  const int64_t s_b = BroadcastStride(shift, 0), s_l = BroadcastStride(shift, 1);
  const int64_t c_b = BroadcastStride(scale, 0), c_l = BroadcastStride(scale, 1);
  T* op = out.data_ptr<T>();
  at::parallel_for(0, batch * len, kRowGrain, [&](int64_t begin, int64_t end) {
    vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / len, t = row % len;
        const float* xr = xp + row * c;
        // Statistics in float64, 8 partial sums (one vector).
        const float mean =
            static_cast<float>(LaneSum<double, 8>(xr, c, [](float v) VIDEOGEN_VECTOR_LOOP { return double{v}; }) / c);
        const double sq = LaneSum<double, 8>(xr, c, [mean](float v) VIDEOGEN_VECTOR_LOOP {
          const double d = v - mean;
          return d * d;
        });
        const float rstd = static_cast<float>(1.0 / std::sqrt(sq / c + eps));
        const float* sr = sp + b * s_b + t * s_l;
        const float* cr = cp + b * c_b + t * c_l;
        T* orow = op + row * c;
        for (int64_t i = 0; i < c; ++i) orow[i] = Round<T>(sr[i] + (xr[i] - mean) * rstd * (1.0f + cr[i]));
      }
    });
  });
}

// One row of d/2 (even, odd) pairs rotated by (cos, sin), float32.
template <typename T>
inline void RotateRow(const T* in, const float* cs, const float* sn, int64_t half, T* out) {
  for (int64_t j = 0; j < half; ++j) {
    const float a = ToFloat(in[2 * j]), b = ToFloat(in[2 * j + 1]);
    out[2 * j] = Round<T>(a * cs[j] - b * sn[j]);
    out[2 * j + 1] = Round<T>(a * sn[j] + b * cs[j]);
  }
}

template <typename T>
void RmsNormRopeRows(const torch::Tensor& y, const torch::Tensor& weight, double eps, int64_t heads,
                     const torch::Tensor* cos, const torch::Tensor* sin, torch::Tensor& out) {
  const int64_t n = y.size(0), c = y.size(1), d = c / heads, half = d / 2;
  const T* yp = y.data_ptr<T>();
  const T* wp = weight.data_ptr<T>();
  const float* cp = cos ? cos->data_ptr<float>() : nullptr;
  const float* sp = sin ? sin->data_ptr<float>() : nullptr;
  const int64_t rope_rows = cos ? cos->size(0) : 0;
  T* op = out.data_ptr<T>();
  at::parallel_for(0, n, kRowGrain, [&](int64_t begin, int64_t end) {
    std::vector<T> normed(c);
    vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
      for (int64_t row = begin; row < end; ++row) {
        const T* yr = yp + row * c;
        // The sum of squares in float32, 16 partial sums (one vector).
        const float sq = LaneSum<float, 16>(yr, c, [](T v) VIDEOGEN_VECTOR_LOOP {
          const float f = ToFloat(v);
          return f * f;
        });
        const float r = 1.0f / std::sqrt(sq / static_cast<float>(c) + static_cast<float>(eps));
        for (int64_t k = 0; k < c; ++k) normed[k] = Round<T>(ToFloat(Round<T>(ToFloat(yr[k]) * r)) * ToFloat(wp[k]));
        T* orow = op + row * c;
        if (row < rope_rows) {
          for (int64_t h = 0; h < heads; ++h)
            RotateRow(normed.data() + h * d, cp + row * half, sp + row * half, half, orow + h * d);
        } else {
          for (int64_t k = 0; k < c; ++k) orow[k] = normed[k];
        }
      }
    });
  });
}

template <typename T>
void RopeRows(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, torch::Tensor& out) {
  const int64_t n = x.size(0), heads = x.size(1), d = x.size(2), half = d / 2;
  const int64_t rope_rows = cos.size(0);
  const T* xp = x.data_ptr<T>();
  const float* cp = cos.data_ptr<float>();
  const float* sp = sin.data_ptr<float>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, n, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      for (int64_t h = 0; h < heads; ++h) {
        const T* in = xp + (row * heads + h) * d;
        T* o = op + (row * heads + h) * d;
        if (row < rope_rows) {
          RotateRow(in, cp + row * half, sp + row * half, half, o);
        } else {
          for (int64_t i = 0; i < d; ++i) o[i] = in[i];
        }
      }
    }
  });
}

// out = x + float(y) * gate (gate rows broadcast as [B, 1 or L, C]; no gate:
// x + float(y)); x, y, out contiguous [B, L, C]; out may be x.
template <typename T>
void GatedResidualRows(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate, torch::Tensor& out) {
  const int64_t batch = x.size(0), len = x.size(1), c = x.size(2);
  const float* xp = x.data_ptr<float>();
  const T* yp = y.data_ptr<T>();
  const float* gp = gate.defined() ? gate.data_ptr<float>() : nullptr;
  const int64_t g_b = gp == nullptr ? 0 : BroadcastStride(gate, 0), g_l = gp == nullptr ? 0 : BroadcastStride(gate, 1);
  float* op = out.data_ptr<float>();
  at::parallel_for(0, batch * len, kRowGrain, [&](int64_t begin, int64_t end) {
    vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
      for (int64_t row = begin; row < end; ++row) {
        const float* xr = xp + row * c;
        const T* yr = yp + row * c;
        float* orow = op + row * c;
        if (gp == nullptr) {
          for (int64_t i = 0; i < c; ++i) orow[i] = xr[i] + ToFloat(yr[i]);
        } else {
          const float* gr = gp + (row / len) * g_b + (row % len) * g_l;
          for (int64_t i = 0; i < c; ++i) orow[i] = xr[i] + ToFloat(yr[i]) * gr[i];
        }
      }
    });
  });
}

void GatedResidualInto(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate, torch::Tensor& out) {
  TORCH_CHECK(x.scalar_type() == at::kFloat && x.dim() == 3 && y.sizes() == x.sizes(),
              "GatedResidual: x must be float32 [B, L, C] and y of its shape");
  const torch::Tensor yc = y.contiguous(), g = ModulationRows(gate);
  TORCH_CHECK(!g.defined() || (g.dim() == 3 && g.size(2) == x.size(2) && (g.size(0) == 1 || g.size(0) == x.size(0)) &&
                               (g.size(1) == 1 || g.size(1) == x.size(1))),
              "GatedResidual: gate must broadcast as [B, 1 or L, C]");
  if (y.scalar_type() == at::kBFloat16) {
    GatedResidualRows<c10::BFloat16>(x, yc, g, out);
  } else {
    TORCH_CHECK(y.scalar_type() == at::kHalf, "GatedResidual: y must be bfloat16 or float16");
    GatedResidualRows<c10::Half>(x, yc, g, out);
  }
}

// Off the CPU (CUDA): the same arithmetic as LibTorch ops, in float32.
// x: [N, heads, d] float32 -> x with its first min(N, cos rows) rows rotated.
torch::Tensor RotateWithOps(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t rows = std::min(x.size(0), cos.size(0)), heads = x.size(1), half = x.size(2) / 2;
  torch::Tensor out = x.clone();
  const torch::Tensor pairs = x.narrow(0, 0, rows).reshape({rows, heads, half, 2});
  const torch::Tensor a = pairs.select(-1, 0), b = pairs.select(-1, 1);
  const torch::Tensor c = cos.narrow(0, 0, rows).to(x.device(), at::kFloat).unsqueeze(1);
  const torch::Tensor sn = sin.narrow(0, 0, rows).to(x.device(), at::kFloat).unsqueeze(1);
  out.narrow(0, 0, rows).copy_(at::stack({a * c - b * sn, a * sn + b * c}, -1).view({rows, heads, 2 * half}));
  return out;
}

}  // namespace

torch::Tensor ModulatedLayerNorm(const torch::Tensor& x, const torch::Tensor& shift, const torch::Tensor& scale,
                                 double eps, at::ScalarType dtype) {
  RECORD_FUNCTION("videogen::ModulatedLayerNorm", std::vector<c10::IValue>());
  // x: [B, L, C]; shift, scale: [B or 1, 1 or L, C]
  if (!x.device().is_cpu()) {
    const torch::Tensor n = at::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, {}, {}, eps);
    return (shift.to(torch::kFloat32) + n * (1 + scale.to(torch::kFloat32))).to(dtype).contiguous();
  }
  const torch::Tensor xc = x.to(torch::kFloat32).contiguous();
  const torch::Tensor s = ModulationRows(shift), k = ModulationRows(scale);
  torch::Tensor out = at::empty(xc.sizes(), xc.options().dtype(dtype));
  if (dtype == at::kBFloat16) {
    ModulatedLayerNormRows<c10::BFloat16>(xc, s, k, eps, out);
  } else {
    TORCH_CHECK(dtype == at::kHalf, "ModulatedLayerNorm: dtype must be bfloat16 or float16");
    ModulatedLayerNormRows<c10::Half>(xc, s, k, eps, out);
  }
  return out;
}

torch::Tensor RmsNormRope(const torch::Tensor& y, const torch::Tensor& weight, double eps, int64_t heads,
                          const torch::Tensor* rope_cos, const torch::Tensor* rope_sin) {
  RECORD_FUNCTION("videogen::RmsNormRope", std::vector<c10::IValue>());
  // y: [N, C] -> [N, heads, C / heads]
  if (!y.device().is_cpu()) {
    const torch::Tensor yf = y.to(torch::kFloat32);
    const torch::Tensor r = at::rsqrt(yf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    const torch::Tensor normed =
        ((yf * r).to(y.scalar_type()) * weight.to(y.scalar_type())).view({y.size(0), heads, -1});
    if (rope_cos == nullptr) return normed.contiguous();
    return RotateWithOps(normed.to(torch::kFloat32), *rope_cos, *rope_sin).to(y.scalar_type());
  }
  const torch::Tensor yc = y.contiguous();
  const torch::Tensor w = weight.to(y.scalar_type()).contiguous();
  torch::Tensor out = at::empty({y.size(0), heads, y.size(1) / heads}, yc.options());
  if (y.scalar_type() == at::kBFloat16) {
    RmsNormRopeRows<c10::BFloat16>(yc, w, eps, heads, rope_cos, rope_sin, out);
  } else {
    TORCH_CHECK(y.scalar_type() == at::kHalf, "RmsNormRope: y must be bfloat16 or float16");
    RmsNormRopeRows<c10::Half>(yc, w, eps, heads, rope_cos, rope_sin, out);
  }
  return out;
}

torch::Tensor GeluTanhInPlace(torch::Tensor& x) {
  RECORD_FUNCTION("videogen::GeluTanhInPlace", std::vector<c10::IValue>());
  TORCH_CHECK(x.is_contiguous() && x.device().is_cpu(), "GeluTanhInPlace: x must be a contiguous CPU tensor");
  // Chunks of 64 Ki elements: enough work per task, and a whole cache line per chunk edge.
  constexpr int64_t kGrain = int64_t{1} << 16;
  if (x.scalar_type() == at::kBFloat16) {
    c10::BFloat16* p = x.data_ptr<c10::BFloat16>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { GeluTanhRange(p + b, e - b); });
  } else {
    TORCH_CHECK(x.scalar_type() == at::kHalf, "GeluTanhInPlace: x must be bfloat16 or float16");
    c10::Half* p = x.data_ptr<c10::Half>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { GeluTanhRange(p + b, e - b); });
  }
  return x;
}

torch::Tensor ApplyRopeF32(const torch::Tensor& x, const torch::Tensor& rope_cos, const torch::Tensor& rope_sin) {
  RECORD_FUNCTION("videogen::ApplyRopeF32", std::vector<c10::IValue>());
  // x: [N, heads, d]
  if (!x.device().is_cpu()) return RotateWithOps(x.to(torch::kFloat32), rope_cos, rope_sin).to(x.scalar_type());
  const torch::Tensor xc = x.contiguous();
  torch::Tensor out = at::empty_like(xc);
  if (x.scalar_type() == at::kBFloat16) {
    RopeRows<c10::BFloat16>(xc, rope_cos, rope_sin, out);
  } else {
    TORCH_CHECK(x.scalar_type() == at::kHalf, "ApplyRopeF32: x must be bfloat16 or float16");
    RopeRows<c10::Half>(xc, rope_cos, rope_sin, out);
  }
  return out;
}

torch::Tensor GatedResidual(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate) {
  RECORD_FUNCTION("videogen::GatedResidual", std::vector<c10::IValue>());
  if (!x.device().is_cpu()) {
    const torch::Tensor xf = x.to(torch::kFloat32), yf = y.to(torch::kFloat32);
    return gate.defined() ? at::addcmul(xf, yf, gate) : xf + yf;
  }
  const torch::Tensor xc = x.to(torch::kFloat32).contiguous();  // a low-precision x (the embedding's) is promoted
  torch::Tensor out = at::empty_like(xc);
  GatedResidualInto(xc, y, gate, out);
  return out;
}

torch::Tensor& GatedResidualInPlace(torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gate) {
  RECORD_FUNCTION("videogen::GatedResidualInPlace", std::vector<c10::IValue>());
  TORCH_CHECK(x.scalar_type() == at::kFloat, "GatedResidualInPlace: x must be float32");
  if (!x.device().is_cpu() || !x.is_contiguous()) {
    const torch::Tensor yf = y.to(torch::kFloat32);
    return gate.defined() ? x.addcmul_(yf, gate) : x.add_(yf);
  }
  GatedResidualInto(x, y, gate, x);
  return x;
}

}  // namespace videogen::models

// Scalar building blocks for element-wise loops that GCC vectorises: bf16
// conversions and exp without branches or library calls, and RunVectorised,
// which runs a loop compiled for the best vector level this CPU has. Include
// only from .cc files compiled with -O3 -fno-trapping-math (see their
// CMakeLists).
#pragma once

#include <cstdint>
#include <cstring>

namespace videogen::models::vec {

// Put on the lambda given to RunVectorised so it is inlined into (and so
// compiled for the ISA of) each build.
#if defined(__GNUC__)
#define VIDEOGEN_VECTOR_LOOP __attribute__((always_inline))
#else
#define VIDEOGEN_VECTOR_LOOP
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Feature sets of the builds. AVX-512 needs VL/BW/DQ besides F for the
// 16-bit packing and float/int conversions of these loops: with F alone GCC
// kept 256-bit vectors and spilled, 2.7x slower on a bf16 exp loop (measured;
// AVX2 + FMA was as slow). Dispatch is by CPU feature: target_clones with
// "arch=" dispatches on the CPU model and ran the baseline on AMD parts.
#define VIDEOGEN_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define VIDEOGEN_TARGET_AVX2 __attribute__((target("avx2,fma")))

enum class VectorLevel { kBaseline, kAvx2, kAvx512 };

// The best level this CPU supports; decided once. Thread-safe.
inline VectorLevel CpuVectorLevel() {
  static const VectorLevel level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma")) {
      return VectorLevel::kAvx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return VectorLevel::kAvx2;
    return VectorLevel::kBaseline;
  }();
  return level;
}

template <typename Loop>
VIDEOGEN_TARGET_AVX512 void RunAvx512(const Loop& loop) {
  loop();
}
template <typename Loop>
VIDEOGEN_TARGET_AVX2 void RunAvx2(const Loop& loop) {
  loop();
}

// Runs `loop` (a lambda marked VIDEOGEN_VECTOR_LOOP) built for this CPU.
template <typename Loop>
void RunVectorised(const Loop& loop) {
  switch (CpuVectorLevel()) {
    case VectorLevel::kAvx512:
      return RunAvx512(loop);
    case VectorLevel::kAvx2:
      return RunAvx2(loop);
    case VectorLevel::kBaseline:
      return loop();
  }
}
#else
// Other compilers and architectures: the baseline build.
template <typename Loop>
void RunVectorised(const Loop& loop) {
  loop();
}
#endif

// bf16 bits <-> float32. Round to nearest even; NaN stays NaN (as c10::BFloat16,
// whose conversions branch per element).
inline float Bf16BitsToFloat(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint16_t FloatToBf16Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (u & 0x7fffffffu) > 0x7f800000u ? uint16_t{0x7fc0} : static_cast<uint16_t>(rounded);
}

// exp(z) for z in [-87, 87] (callers clamp): 2^n * 2^f, n = round(z log2 e),
// |f| <= 0.5, 2^f by its degree-6 Taylor polynomial (relative error < 2e-7).
inline float ExpOfClamped(float z) {
  const float t = z * 1.44269504088896341f;
  const float n = __builtin_floorf(t + 0.5f);
  const float f = t - n;
  const float p =
      1.0f + f * (0.693147181f + f * (0.240226507f + f * (0.0555041087f + f * (0.00961812911f +
                                                                              f * (0.00133335581f + f * 0.000154035304f)))));
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// exp(z) with z clamped to [-87, 87] first (NaN stays NaN): below -87 it
// flushes to ~exp(-87) (1.6e-38), above 87 it saturates at ~exp(87).
inline float ExpClamped(float z) {
  return ExpOfClamped(z < -87.0f ? -87.0f : (z > 87.0f ? 87.0f : z));
}

}  // namespace videogen::models::vec

// Scalar building blocks for element-wise loops that GCC vectorises: bf16
// conversions and exp without branches or library calls. Include only from
// .cc files compiled with -O3 -fno-trapping-math (see their CMakeLists), and
// put VIDEOGEN_VECTOR_CLONES on the loops: the CPU picks the clone at load time.
#pragma once

#include <cstdint>
#include <cstring>

namespace videogen::models::vec {

// AVX-512 / AVX2 / baseline clones of a function (GCC's ifunc dispatch, by
// CPU feature: "arch=" clones dispatch on the CPU model and miss AMD parts);
// other compilers get the baseline loop.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VIDEOGEN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VIDEOGEN_VECTOR_CLONES
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

}  // namespace videogen::models::vec

#include "engine/quant/e4m3.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace videogen::quant {
namespace {

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

constexpr uint32_t kF32Inf = 0x7F800000u;
constexpr uint32_t kF32Of448 = 0x43E00000u;        // 448.0f
constexpr uint32_t kF32MinNormalE4M3 = 0x3C800000u;  // 2^-6

}  // namespace

uint8_t EncodeE4M3(float value) {
  const uint32_t bits = Bits(value);
  const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > kF32Inf) return sign | kE4M3NaN;
  if (abs >= kF32Of448) return sign | kE4M3MaxCode;  // saturate (includes inf)
  if (abs < kF32MinNormalE4M3) {
    // Subnormal range: round |value| to a multiple of 2^-9. Adding 2^14 (whose
    // float32 ulp is 2^-9) makes the FPU do the round-to-nearest-even; the
    // code is then the number of 2^-9 units (8 = the smallest normal, 0x08).
    const float rounded = FromBits(abs) + 16384.0f;
    return sign | static_cast<uint8_t>(Bits(rounded) - Bits(16384.0f));
  }
  // Normal range: re-bias the exponent (127 -> 7) and round the 23-bit
  // mantissa to 3 bits, nearest-even; a carry moves into the exponent. Values
  // below 448 never round up to the NaN pattern (see the tests).
  const uint32_t rebiased = abs - (120u << 23);
  const uint32_t rounded = (rebiased + 0x7FFFFu + ((rebiased >> 20) & 1u)) >> 20;
  return sign | static_cast<uint8_t>(rounded);
}

float DecodeE4M3(uint8_t code) {
  const bool negative = (code & 0x80) != 0;
  const int exponent = (code >> 3) & 0x0F;
  const int mantissa = code & 0x07;
  float magnitude;
  if (exponent == 0x0F && mantissa == 0x07) {
    magnitude = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);
  } else {
    magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  }
  return negative ? -magnitude : magnitude;
}

const std::array<float, 256>& E4M3DecodeTable() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = DecodeE4M3(static_cast<uint8_t>(c));
    return t;
  }();
  return table;
}

}  // namespace videogen::quant

// The float8 e4m3fn format (1 sign, 4 exponent bits with bias 7, 3 mantissa
// bits; no infinities; S.1111.111 is NaN; largest finite value 448), as an
// owned, bit-exact scalar codec that works on every LibTorch version.
#pragma once

#include <array>
#include <cstdint>

namespace videogen::quant {

inline constexpr float kE4M3Max = 448.0f;
inline constexpr uint8_t kE4M3MaxCode = 0x7E;  // +448
inline constexpr uint8_t kE4M3NaN = 0x7F;      // canonical (positive) NaN

// Encodes `value` with round-to-nearest-even. Finite values beyond ±448 and
// ±infinity saturate to ±448; NaN becomes 0x7F (0xFF when the sign bit is
// set); signed zeros and subnormals (multiples of 2^-9) are kept.
// Thread-safe; assumes the default floating-point rounding mode.
uint8_t EncodeE4M3(float value);

// Exact decoding of a code (every e4m3fn value is a float32 value).
float DecodeE4M3(uint8_t code);

// The 256 decoded values, index = code (built once; thread-safe).
const std::array<float, 256>& E4M3DecodeTable();

}  // namespace videogen::quant

// Vectorised e4m3fn encoding and decoding (AVX2 + F16C, chosen at run time;
// x86-64 only; scalar loops elsewhere). Exact: a code's magnitude bits shifted left by 7 are
// an fp16 bit pattern worth value / 256.
#pragma once

#include <cstdint>

namespace videogen::quant {

// True when the CPU (and build) provide the kernels below.
bool HasSimdE4M3Decode();

// out[i] = decode(in[i]) * scale for i < n; preconditions: HasSimdE4M3Decode().
void DecodeE4M3ToF32Simd(const uint8_t* in, int64_t n, float scale, float* out);
// The same, rounded to bfloat16 (nearest-even), written as raw bf16 bits.
void DecodeE4M3ToBf16Simd(const uint8_t* in, int64_t n, float scale, uint16_t* out);

// The bf16 decode as two 128-entry byte-table lookups per 64 codes (AVX-512
// VBMI vpermi2b); same results as DecodeE4M3ToBf16Simd. Preconditions:
// HasVbmiE4M3Decode().
bool HasVbmiE4M3Decode();
void DecodeE4M3ToBf16Vbmi(const uint8_t* in, int64_t n, float scale, uint16_t* out);

// out[i] = EncodeE4M3(in[i] / scale), bit-identical to the scalar codec.
void EncodeE4M3Simd(const float* in, int64_t n, float scale, uint8_t* out);

// max |in[i]|, NaNs ignored (0 for n == 0).
float AbsMaxSimd(const float* in, int64_t n);

}  // namespace videogen::quant

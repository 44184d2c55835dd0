#include "engine/quant/e4m3_simd.h"

#include "engine/quant/e4m3.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace videogen::quant {
namespace {

uint16_t Bf16Bits(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace

#if defined(__x86_64__)
namespace {

// 8 codes -> 8 floats (value * scale).
__attribute__((target("avx2,f16c"))) inline __m256 Decode8(const uint8_t* in, __m256 mul) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in));
  const __m128i mag16 = _mm_and_si128(_mm_cvtepu8_epi16(b), _mm_set1_epi16(0x7F));
  const __m256 f = _mm256_mul_ps(_mm256_cvtph_ps(_mm_slli_epi16(mag16, 7)), mul);
  const __m256i w32 = _mm256_cvtepu8_epi32(b);
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(w32, _mm256_set1_epi32(0x80)), 24);
  const __m256i nan = _mm256_cmpeq_epi32(_mm256_and_si256(w32, _mm256_set1_epi32(0x7F)), _mm256_set1_epi32(0x7F));
  const __m256i bits = _mm256_blendv_epi8(_mm256_castps_si256(f), _mm256_set1_epi32(0x7FC00000), nan);
  return _mm256_castsi256_ps(_mm256_or_si256(bits, sign));
}

// float32 bits -> bf16 bits in the low half of each lane, nearest-even.
__attribute__((target("avx2,f16c"))) inline __m256i RoundToBf16(__m256i a) {
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a, 16), _mm256_set1_epi32(1));
  return _mm256_srli_epi32(_mm256_add_epi32(a, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), lsb)), 16);
}

}  // namespace

bool HasSimdE4M3Decode() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return has;
}

__attribute__((target("avx2,f16c"))) void DecodeE4M3ToF32Simd(const uint8_t* in, int64_t n, float scale,
                                                              float* out) {
  const __m256 mul = _mm256_set1_ps(256.0f * scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, Decode8(in + i, mul));
  for (; i < n; ++i) out[i] = DecodeE4M3(in[i]) * scale;
}

__attribute__((target("avx2,f16c"))) void DecodeE4M3ToBf16Simd(const uint8_t* in, int64_t n, float scale,
                                                               uint16_t* out) {
  const __m256 mul = _mm256_set1_ps(256.0f * scale);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = RoundToBf16(_mm256_castps_si256(Decode8(in + i, mul)));
    const __m256i b = RoundToBf16(_mm256_castps_si256(Decode8(in + i + 8, mul)));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), packed);
  }
  for (; i < n; ++i) out[i] = Bf16Bits(DecodeE4M3(in[i]) * scale);
}

bool HasVbmiE4M3Decode() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vbmi");
  return has;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void DecodeE4M3ToBf16Vbmi(const uint8_t* in, int64_t n,
                                                                                  float scale, uint16_t* out) {
  // High and low bytes of bf16(decode(c) * scale) for the 128 magnitudes; the
  // sign bit is copied from the code (rounding is symmetric).
  alignas(64) uint8_t hi[128], lo[128];
  for (int c = 0; c < 128; ++c) {
    const uint16_t b = Bf16Bits(DecodeE4M3(static_cast<uint8_t>(c)) * scale);
    hi[c] = static_cast<uint8_t>(b >> 8);
    lo[c] = static_cast<uint8_t>(b & 0xFF);
  }
  const __m512i hi0 = _mm512_load_si512(hi), hi1 = _mm512_load_si512(hi + 64);
  const __m512i lo0 = _mm512_load_si512(lo), lo1 = _mm512_load_si512(lo + 64);
  const __m512i sign_mask = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i c = _mm512_loadu_si512(in + i);
    const __m512i h = _mm512_or_si512(_mm512_permutex2var_epi8(hi0, c, hi1), _mm512_and_si512(c, sign_mask));
    const __m512i l = _mm512_permutex2var_epi8(lo0, c, lo1);
    const __m512i a = _mm512_unpacklo_epi8(l, h);  // codes 0-7, 16-23, 32-39, 48-55 of the 64
    const __m512i b = _mm512_unpackhi_epi8(l, h);  // codes 8-15, 24-31, 40-47, 56-63
    _mm512_storeu_si512(out + i, _mm512_permutex2var_epi64(a, first, b));
    _mm512_storeu_si512(out + i + 32, _mm512_permutex2var_epi64(a, second, b));
  }
  for (; i < n; ++i) out[i] = Bf16Bits(DecodeE4M3(in[i]) * scale);
}

namespace {

// 8 floats -> 8 codes in the low byte of each 32-bit lane (see EncodeE4M3).
__attribute__((target("avx2,f16c"))) inline __m256i Encode8(__m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(bits, 24), _mm256_set1_epi32(0x80));
  const __m256i abs = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i is_nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
  const __m256i is_sat = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x43DFFFFF));
  const __m256i is_sub = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3C800000), abs);
  const __m256 magic = _mm256_set1_ps(16384.0f);
  const __m256i sub = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(_mm256_castsi256_ps(abs), magic)),
                                       _mm256_castps_si256(magic));
  const __m256i r = _mm256_sub_epi32(abs, _mm256_set1_epi32(120 << 23));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(r, 20), _mm256_set1_epi32(1));
  const __m256i normal = _mm256_srli_epi32(_mm256_add_epi32(r, _mm256_add_epi32(_mm256_set1_epi32(0x7FFFF), lsb)), 20);
  __m256i code = _mm256_blendv_epi8(normal, sub, is_sub);
  code = _mm256_blendv_epi8(code, _mm256_set1_epi32(kE4M3MaxCode), is_sat);
  code = _mm256_blendv_epi8(code, _mm256_set1_epi32(kE4M3NaN), is_nan);
  return _mm256_or_si256(code, sign);
}

}  // namespace

__attribute__((target("avx2,f16c"))) void EncodeE4M3Simd(const float* in, int64_t n, float scale, uint8_t* out) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = Encode8(_mm256_div_ps(_mm256_loadu_ps(in + i), s));
    const __m256i b = Encode8(_mm256_div_ps(_mm256_loadu_ps(in + i + 8), s));
    const __m256i c = Encode8(_mm256_div_ps(_mm256_loadu_ps(in + i + 16), s));
    const __m256i d = Encode8(_mm256_div_ps(_mm256_loadu_ps(in + i + 24), s));
    const __m256i packed = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(packed, order));
  }
  for (; i < n; ++i) out[i] = EncodeE4M3(in[i] / scale);
}

__attribute__((target("avx2,f16c"))) float AbsMaxSimd(const float* in, int64_t n) {
  const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  // max_ps(a, m) returns m when a is NaN: NaNs are ignored.
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(in + i), mask), m);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float best = 0.0f;
  for (float v : lanes) best = v > best ? v : best;
  for (; i < n; ++i) {
    const float a = in[i] < 0 ? -in[i] : in[i];
    best = a > best ? a : best;
  }
  return best;
}

#else  // not x86-64: the table kernels of fp8_tensor.cc are used.

bool HasSimdE4M3Decode() { return false; }
bool HasVbmiE4M3Decode() { return false; }
void DecodeE4M3ToBf16Vbmi(const uint8_t* in, int64_t n, float scale, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = Bf16Bits(DecodeE4M3(in[i]) * scale);
}
void DecodeE4M3ToF32Simd(const uint8_t* in, int64_t n, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = DecodeE4M3(in[i]) * scale;
}
void DecodeE4M3ToBf16Simd(const uint8_t* in, int64_t n, float scale, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = Bf16Bits(DecodeE4M3(in[i]) * scale);
}
void EncodeE4M3Simd(const float* in, int64_t n, float scale, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = EncodeE4M3(in[i] / scale);
}
float AbsMaxSimd(const float* in, int64_t n) {
  float best = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float a = in[i] < 0 ? -in[i] : in[i];
    best = a > best ? a : best;
  }
  return best;
}

#endif

}  // namespace videogen::quant

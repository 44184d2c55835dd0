#include "engine/quant/e4m3.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace videogen::quant {
namespace {

float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Independent reference: the nearest finite e4m3fn value by exhaustive search
// (ties to the even code), saturating at 448, NaN -> 0x7F with the sign.
uint8_t ReferenceEncode(float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x)) return sign | 0x7F;
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 448.0) return sign | 0x7E;
  int best = 0;
  double best_err = std::numeric_limits<double>::infinity();
  for (int c = 0; c <= 0x7E; ++c) {
    const double err = std::fabs(static_cast<double>(DecodeE4M3(static_cast<uint8_t>(c))) - a);
    if (err < best_err || (err == best_err && c % 2 == 0)) {
      best = c;
      best_err = err;
    }
  }
  return sign | static_cast<uint8_t>(best);
}

TEST(E4M3, DecodesKnownValues) {
  EXPECT_EQ(DecodeE4M3(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(DecodeE4M3(0x80)));
  EXPECT_EQ(DecodeE4M3(0x38), 1.0f);            // e=7, m=0
  EXPECT_EQ(DecodeE4M3(0x7E), 448.0f);          // largest finite
  EXPECT_EQ(DecodeE4M3(0xFE), -448.0f);
  EXPECT_EQ(DecodeE4M3(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(DecodeE4M3(0x07), 7 * std::ldexp(1.0f, -9));  // largest subnormal
  EXPECT_EQ(DecodeE4M3(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_TRUE(std::isnan(DecodeE4M3(0x7F)));
  EXPECT_TRUE(std::isnan(DecodeE4M3(0xFF)));
}

TEST(E4M3, AllCodesRoundTripExactly) {
  int nan_codes = 0;
  for (int c = 0; c < 256; ++c) {
    const float v = DecodeE4M3(static_cast<uint8_t>(c));
    EXPECT_EQ(std::memcmp(&E4M3DecodeTable()[c], &v, sizeof(v)), 0) << c;  // bitwise: NaN too
    if (std::isnan(v)) {
      ++nan_codes;
      EXPECT_EQ(EncodeE4M3(v), c) << c;  // the sign survives
      continue;
    }
    EXPECT_EQ(EncodeE4M3(v), c) << "code " << c << " value " << v;
  }
  EXPECT_EQ(nan_codes, 2);
}

TEST(E4M3, MidpointsRoundToEven) {
  for (int c = 0; c < 0x7E; ++c) {
    const double lo = DecodeE4M3(static_cast<uint8_t>(c)), hi = DecodeE4M3(static_cast<uint8_t>(c + 1));
    const float mid = static_cast<float>((lo + hi) / 2);  // exact in float32
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const int even = (c % 2 == 0) ? c : c + 1;
    EXPECT_EQ(EncodeE4M3(mid), even) << "between codes " << c << " and " << c + 1;
    EXPECT_EQ(EncodeE4M3(-mid), 0x80 | even);
    // Just off the midpoint goes to the nearer side.
    EXPECT_EQ(EncodeE4M3(std::nextafter(mid, 0.0f)), c);
    EXPECT_EQ(EncodeE4M3(std::nextafter(mid, 1000.0f)), c + 1);
  }
}

TEST(E4M3, SaturatesAndKeepsSpecials) {
  EXPECT_EQ(EncodeE4M3(448.0f), 0x7E);
  EXPECT_EQ(EncodeE4M3(464.0f), 0x7E);  // would round to 480: saturates
  EXPECT_EQ(EncodeE4M3(1e30f), 0x7E);
  EXPECT_EQ(EncodeE4M3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(EncodeE4M3(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(EncodeE4M3(-1e30f), 0xFE);
  EXPECT_EQ(EncodeE4M3(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(EncodeE4M3(-std::numeric_limits<float>::quiet_NaN()), 0xFF);
  EXPECT_EQ(EncodeE4M3(0.0f), 0x00);
  EXPECT_EQ(EncodeE4M3(-0.0f), 0x80);
  EXPECT_EQ(EncodeE4M3(std::ldexp(1.0f, -10)), 0x00);      // half the smallest subnormal: tie to 0
  EXPECT_EQ(EncodeE4M3(std::ldexp(1.5f, -10)), 0x01);      // above the tie
  EXPECT_EQ(EncodeE4M3(std::ldexp(3.0f, -10)), 0x02);      // 1.5 units: tie to even (2)
  EXPECT_EQ(EncodeE4M3(std::numeric_limits<float>::denorm_min()), 0x00);
  EXPECT_EQ(EncodeE4M3(std::ldexp(15.0f, -10)), 0x08);     // 7.5 units: tie to 8 = smallest normal
  EXPECT_EQ(EncodeE4M3(447.9f), 0x7E);
  EXPECT_EQ(EncodeE4M3(432.0f), 0x7E);  // tie between 416 (m=5) and 448 (m=6): even
  EXPECT_EQ(EncodeE4M3(431.9f), 0x7D);
}

TEST(E4M3, MatchesExhaustiveReferenceOnSweep) {
  // Every float32 exponent with a spread of mantissas, plus random values.
  int checked = 0;
  for (uint32_t exp = 0; exp < 255; ++exp) {
    for (uint32_t m = 0; m < (1u << 23); m += 4099) {
      for (uint32_t sign : {0u, 1u}) {
        const float x = FromBits((sign << 31) | (exp << 23) | m);
        ASSERT_EQ(EncodeE4M3(x), ReferenceEncode(x)) << x;
        ++checked;
      }
    }
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-500.0f, 500.0f);
  for (int i = 0; i < 20000; ++i) {
    const float x = dist(rng) * std::ldexp(1.0f, -(i % 20));
    ASSERT_EQ(EncodeE4M3(x), ReferenceEncode(x)) << x;
  }
  EXPECT_GT(checked, 500000);
}

}  // namespace
}  // namespace videogen::quant

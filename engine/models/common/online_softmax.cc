#include "engine/models/common/online_softmax.h"

#include <limits>

#include "engine/models/common/vector_math.h"

namespace videogen::models {
namespace {

// Lanes of the reductions, so GCC keeps them in vector registers without
// reassociating float sums on its own (-O3 without -ffast-math does not).
constexpr int kLanes = 16;

float RowMax(const float* s, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    float lanes[kLanes];
    for (int k = 0; k < kLanes; ++k) lanes[k] = -std::numeric_limits<float>::infinity();
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      for (int k = 0; k < kLanes; ++k) lanes[k] = s[j + k] > lanes[k] ? s[j + k] : lanes[k];
    }
    for (int k = 0; k < kLanes; ++k) mx = lanes[k] > mx ? lanes[k] : mx;
    for (; j < n; ++j) mx = s[j] > mx ? s[j] : mx;
  });
  return mx;
}

// s[j] = exp(s[j] - mx) and p[j] = its bf16 rounding (no reduction, so GCC
// vectorises it as it does GELU).
void ExpAndRound(float* s, int64_t n, float mx, uint16_t* p) {
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    for (int64_t j = 0; j < n; ++j) {
      const float e = vec::ExpClamped(s[j] - mx);
      s[j] = e;
      p[j] = vec::FloatToBf16Bits(e);
    }
  });
}

float RowSum(const float* s, int64_t n) {
  float sum = 0;
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    float lanes[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      for (int k = 0; k < kLanes; ++k) lanes[k] += s[j + k];
    }
    for (; j < n; ++j) sum += s[j];
    for (int k = 0; k < kLanes; ++k) sum += lanes[k];
  });
  return sum;
}

void ScaleRow(float* x, int64_t n, float a) {
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    for (int64_t i = 0; i < n; ++i) x[i] *= a;
  });
}

}  // namespace

void OnlineSoftmaxBlockBf16(float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                            float* acc, int64_t d, uint16_t* p, int64_t ld_p) {
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * ld_s;
    const float block_max = RowMax(sr, cols);
    const float m_new = first || block_max > m[r] ? block_max : m[r];
    ExpAndRound(sr, cols, m_new, p + r * ld_p);
    const float sum = RowSum(sr, cols);
    if (first) {
      l[r] = sum;
    } else {
      const float a = vec::ExpClamped(m[r] - m_new);
      l[r] = l[r] * a + sum;
      ScaleRow(acc + r * d, d, a);
    }
    m[r] = m_new;
  }
}

}  // namespace videogen::models

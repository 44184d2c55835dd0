#include "engine/models/common/online_softmax.h"

#include <limits>

#include "engine/models/common/vector_math.h"

namespace videogen::models {
namespace {

// Lanes of the reductions: four 16-float vectors, so GCC keeps them in
// vector registers without reassociating float sums on its own (-O3 without
// -ffast-math does not), and four independent max/add chains hide the
// instructions' latency that one vector's chain would wait on.
constexpr int kLanes = 64;

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

// A float32 value as the destination holds it: rounded to bf16 (bits), or as is.
inline void Store(float v, uint16_t* p) { *p = vec::FloatToBf16Bits(v); }
inline void Store(float v, float* p) { *p = v; }

// p[j] = exp(s[j] - mx), stored by Store (p may be s for float32); returns
// the float32 sum of the unrounded exponentials (lane sums, then the tail).
template <typename P>
float ExpStoreAndSum(const float* s, int64_t n, float mx, P* p) {
  float sum = 0;
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    float lanes[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      for (int k = 0; k < kLanes; ++k) {
        const float e = vec::ExpClamped(s[j + k] - mx);
        Store(e, p + j + k);
        lanes[k] += e;
      }
    }
    for (; j < n; ++j) {
      const float e = vec::ExpClamped(s[j] - mx);
      Store(e, p + j);
      sum += e;
    }
    for (int k = 0; k < kLanes; ++k) sum += lanes[k];
  });
  return sum;
}

void ScaleRow(float* x, int64_t n, float a) {
  vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
    for (int64_t i = 0; i < n; ++i) x[i] *= a;
  });
}

template <typename P>
void OnlineSoftmaxRows(const float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                       float* acc, int64_t d, P* p, int64_t ld_p) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* sr = s + r * ld_s;
    const float block_max = RowMax(sr, cols);
    const float m_new = first || block_max > m[r] ? block_max : m[r];
    const float sum = ExpStoreAndSum(sr, cols, m_new, p + r * ld_p);
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

template <typename O>
void DivideRows(const float* acc, int64_t rows, int64_t d, const float* l, O* out, int64_t ld_out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = acc + r * d;
    O* o = out + r * ld_out;
    const float sum = l[r];
    vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
      for (int64_t i = 0; i < d; ++i) Store(a[i] / sum, o + i);
    });
  }
}

}  // namespace

void OnlineSoftmaxBlockBf16(const float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                            float* acc, int64_t d, uint16_t* p, int64_t ld_p) {
  OnlineSoftmaxRows(s, rows, cols, ld_s, first, m, l, acc, d, p, ld_p);
}

void OnlineSoftmaxBlockInPlace(float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                               float* acc, int64_t d) {
  OnlineSoftmaxRows(s, rows, cols, ld_s, first, m, l, acc, d, s, ld_s);
}

void DivideRowsToBf16(const float* acc, int64_t rows, int64_t d, const float* l, uint16_t* out, int64_t ld_out) {
  DivideRows(acc, rows, d, l, out, ld_out);
}

void DivideRowsToFloat(const float* acc, int64_t rows, int64_t d, const float* l, float* out, int64_t ld_out) {
  DivideRows(acc, rows, d, l, out, ld_out);
}

}  // namespace videogen::models

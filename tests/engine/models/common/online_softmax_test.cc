#include "engine/models/common/online_softmax.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::models {
namespace {

float Bf16BitsToFloat(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Two key blocks through the kernel (first, then not), checked against the
// same online recurrence in float64: running max, sum and scaled accumulator,
// and each block's probabilities to bf16 rounding. Column counts off the
// 64-lane width and scores spanning more than exp's clamp.
TEST(OnlineSoftmaxTest, TwoBlocksMatchTheRecurrenceInFloat64) {
  at::manual_seed(5);
  const int64_t rows = 7, d = 5;
  for (const int64_t cols : {int64_t{1}, int64_t{37}, int64_t{256}, int64_t{300}}) {
    const int64_t ld_s = cols + 3, ld_p = cols + 1;
    at::Tensor s1 = at::randn({rows, ld_s}) * 8, s2 = at::randn({rows, ld_s}) * 8 + 4;
    s2[0].mul_(20);  // row 0: scores down to ~-400 below its max, flushed to ~exp(-87)
    std::vector<float> m(rows), l(rows), acc(rows * d, 1.0f);
    std::vector<uint16_t> p(rows * ld_p);
    std::vector<double> em(rows), el(rows), eacc(rows * d, 1.0);
    for (int block = 0; block < 2; ++block) {
      const at::Tensor& s = block == 0 ? s1 : s2;
      const float* sp = s.data_ptr<float>();
      const at::Tensor before = s.clone();
      OnlineSoftmaxBlockBf16(sp, rows, cols, ld_s, block == 0, m.data(), l.data(), acc.data(), d, p.data(), ld_p);
      EXPECT_TRUE(at::equal(s, before)) << "the scores are read only";
      for (int64_t r = 0; r < rows; ++r) {
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, static_cast<double>(sp[r * ld_s + j]));
        const double m_new = block == 0 ? mx : std::max(em[r], mx);
        double sum = 0;
        for (int64_t j = 0; j < cols; ++j) {
          const double e = std::exp(sp[r * ld_s + j] - m_new);
          sum += e;
          EXPECT_NEAR(Bf16BitsToFloat(p[r * ld_p + j]), e, 4e-3 * e + 1e-37) << "cols " << cols << " r " << r;
        }
        if (block == 0) {
          el[r] = sum;
        } else {
          const double a = std::exp(em[r] - m_new);
          el[r] = el[r] * a + sum;
          for (int64_t i = 0; i < d; ++i) eacc[r * d + i] *= a;
        }
        em[r] = m_new;
        // float32 s - m is off by up to half an ulp of s: relative 6e-8 * |s - m| after exp, summed.
        EXPECT_EQ(m[r], static_cast<float>(em[r])) << "cols " << cols << " r " << r;
        EXPECT_NEAR(l[r], el[r], 1e-5 * el[r]) << "cols " << cols << " r " << r;
        for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(acc[r * d + i], eacc[r * d + i], 1e-6 + 1e-5 * eacc[r * d + i]);
      }
    }
  }
}

// The in-place float32 form keeps the same running state as the bf16 form
// (bit for bit: the same arithmetic) and writes each e_j unrounded over the
// scores: within exp's accuracy of the float64 value plus float32's rounding of
// s - m (half an ulp of |s - m| <= 87 where e_j is not flushed).
TEST(OnlineSoftmaxTest, InPlaceKeepsTheBf16FormsStateAndWritesFloatProbabilities) {
  at::manual_seed(6);
  const int64_t rows = 5, d = 3;
  for (const int64_t cols : {int64_t{1}, int64_t{37}, int64_t{300}}) {
    const int64_t ld_s = cols + 2;
    std::vector<float> m(rows), l(rows), acc(rows * d, 1.0f), m2(rows), l2(rows), acc2(rows * d, 1.0f);
    std::vector<uint16_t> p(rows * ld_s);
    for (int block = 0; block < 2; ++block) {
      const at::Tensor s = at::randn({rows, ld_s}) * 8 + block * 4;
      at::Tensor in_place = s.clone();
      OnlineSoftmaxBlockBf16(s.data_ptr<float>(), rows, cols, ld_s, block == 0, m.data(), l.data(), acc.data(), d,
                             p.data(), ld_s);
      OnlineSoftmaxBlockInPlace(in_place.data_ptr<float>(), rows, cols, ld_s, block == 0, m2.data(), l2.data(),
                                acc2.data(), d);
      EXPECT_EQ(m2, m);
      EXPECT_EQ(l2, l);
      EXPECT_EQ(acc2, acc);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < ld_s; ++j) {
          const float sv = s[r][j].item<float>(), got = in_place[r][j].item<float>();
          if (j >= cols) {
            EXPECT_EQ(got, sv) << "a score beyond cols was written";
            continue;
          }
          const double e = std::exp(static_cast<double>(sv) - m[r]);
          EXPECT_NEAR(got, e, 1e-5 * e + 1e-37) << "cols " << cols << " r " << r << " j " << j;
        }
      }
    }
  }
}

TEST(OnlineSoftmaxTest, ANanScoreMakesItsRowSumNan) {
  std::vector<float> s = {0.5f, std::numeric_limits<float>::quiet_NaN(), 1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> m(2), l(2), acc(2);
  std::vector<uint16_t> p(6);
  OnlineSoftmaxBlockBf16(s.data(), 2, 3, 3, /*first=*/true, m.data(), l.data(), acc.data(), 1, p.data(), 3);
  EXPECT_TRUE(std::isnan(l[0]));
  EXPECT_FALSE(std::isnan(l[1]));
  EXPECT_EQ(m[1], 4.0f);
}

// The row division's inputs: acc [rows, d] and sums l [rows, 1], row 1's sum
// zero and row 2's NaN.
struct DivideInputs {
  at::Tensor acc, l;
};
DivideInputs MakeDivideInputs(int64_t rows, int64_t d) {
  DivideInputs in{at::randn({rows, d}) * 100, at::rand({rows, 1}) * 3 + 0.5};
  in.l[1][0] = 0.0f;
  in.l[2][0] = std::numeric_limits<float>::quiet_NaN();
  return in;
}

// What at::div_out writes into a bf16 tensor (float32 division, then
// nearest-even rounding), bit for bit, with a zero and a NaN sum, into a strided
// destination whose other columns stay untouched.
TEST(OnlineSoftmaxTest, DivideRowsToBf16MatchesDivOutIntoBf16) {
  at::manual_seed(7);
  const int64_t rows = 5, d = 37, ld_out = 50;
  const auto [acc, l] = MakeDivideInputs(rows, d);
  at::Tensor expected = at::empty({rows, d}, at::kBFloat16);
  at::div_out(expected, acc, l);
  at::Tensor dst = at::full({rows, ld_out}, 9.0, at::kBFloat16);
  DivideRowsToBf16(acc.data_ptr<float>(), rows, d, l.data_ptr<float>(),
                   reinterpret_cast<uint16_t*>(dst.data_ptr<c10::BFloat16>()), ld_out);
  const at::Tensor got = dst.narrow(1, 0, d);
  // NaN as NaN (ATen's vectorised cast writes 0xffff, its scalar one 0x7fc0);
  // every other value bit for bit.
  EXPECT_TRUE(got[2].isnan().all().item<bool>());
  for (int64_t r : {0, 1, 3, 4}) {
    EXPECT_TRUE(at::equal(got[r].view(at::kShort), expected[r].view(at::kShort)))
        << "row " << r << ": " << (got[r].to(at::kFloat) - expected[r].to(at::kFloat)).abs().max();
  }
  EXPECT_TRUE(at::equal(dst.narrow(1, d, ld_out - d), at::full({rows, ld_out - d}, 9.0, at::kBFloat16)));
}

// at::div_out's float32 values bit for bit (NaN as NaN), into a strided
// destination whose other columns stay untouched.
TEST(OnlineSoftmaxTest, DivideRowsToFloatMatchesDivOut) {
  at::manual_seed(8);
  const int64_t rows = 4, d = 37, ld_out = 41;
  const auto [acc, l] = MakeDivideInputs(rows, d);
  const at::Tensor expected = acc / l;
  at::Tensor dst = at::full({rows, ld_out}, 9.0);
  DivideRowsToFloat(acc.data_ptr<float>(), rows, d, l.data_ptr<float>(), dst.data_ptr<float>(), ld_out);
  const at::Tensor got = dst.narrow(1, 0, d);
  EXPECT_TRUE(got[2].isnan().all().item<bool>());
  for (int64_t r : {0, 1, 3}) EXPECT_TRUE(at::equal(got[r], expected[r])) << "row " << r;
  EXPECT_TRUE(at::equal(dst.narrow(1, d, ld_out - d), at::full({rows, ld_out - d}, 9.0)));
}

}  // namespace
}  // namespace videogen::models

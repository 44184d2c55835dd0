// Unit tests of the DiT's 3-axis RoPE tables and the sinusoidal time embedding.
#include "engine/models/dit/rope.h"

#include <array>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/models/dit/model.h"

namespace videogen::models {
namespace {

// The split [c - 2 (c // 3), c // 3, c // 3] of the official rope_params.
std::array<int64_t, 3> Split(int64_t head_dim) {
  const int64_t c = head_dim / 2;
  return {c - 2 * (c / 3), c / 3, c / 3};
}

// Angle of pair j (within its axis of width `width` pairs) at position `pos`:
// pos * theta^(-2j / (2 width)).
double Angle(int64_t pos, int64_t j, int64_t width, double theta = 10000.0) {
  return static_cast<double>(pos) * std::pow(theta, -2.0 * static_cast<double>(j) / (2.0 * width));
}

// The engine's split, read back from the tables: the columns that move along
// each axis of a grid (5, 1, 1), (1, 5, 1), (1, 1, 5).
std::array<int64_t, 3> EngineSplit(int64_t head_dim) {
  std::array<int64_t, 3> split{};
  for (int axis = 0; axis < 3; ++axis) {
    std::array<int64_t, 3> grid = {1, 1, 1};
    grid[axis] = 5;
    const RopeTables t = MakeRopeTables(head_dim, grid, torch::kCPU);
    const torch::Tensor moving = (t.sin.abs().sum(0) > 0);
    split[axis] = moving.sum().item<int64_t>();
  }
  return split;
}

TEST(RopeTest, SplitOfTheOfficialHeadDims) {
  // 1.3B and 14B: head_dim 128, c = 64.
  EXPECT_EQ(EngineSplit(128), (std::array<int64_t, 3>{22, 21, 21}));
  EXPECT_EQ(EngineSplit(32), (std::array<int64_t, 3>{6, 5, 5}));
  EXPECT_EQ(EngineSplit(16), (std::array<int64_t, 3>{4, 2, 2}));
  for (int64_t d : {16, 32, 128}) EXPECT_EQ(EngineSplit(d), Split(d)) << d;
}

// On a grid (n, 1, 1) only the frame columns vary; on (1, n, 1) only the height
// columns, on (1, 1, n) only the width ones: this pins the split of the tables.
TEST(RopeTest, EachAxisOwnsItsColumns) {
  for (int64_t d : {16, 32, 128}) {
    SCOPED_TRACE(d);
    const auto split = Split(d);
    const int64_t c = d / 2;
    const int64_t begin[3] = {0, split[0], split[0] + split[1]};
    for (int axis = 0; axis < 3; ++axis) {
      std::array<int64_t, 3> grid = {1, 1, 1};
      grid[axis] = 5;
      const RopeTables t = MakeRopeTables(d, grid, torch::kCPU);
      ASSERT_EQ(t.cos.sizes(), (c10::IntArrayRef{5, c}));
      ASSERT_EQ(t.cos.scalar_type(), at::kDouble);
      // The first column of the moving axis has angle = position.
      EXPECT_DOUBLE_EQ(t.cos[1][begin[axis]].item<double>(), std::cos(1.0));
      for (int64_t col = 0; col < c; ++col) {
        const bool own = col >= begin[axis] && col < begin[axis] + split[axis];
        if (own) continue;
        EXPECT_TRUE(at::equal(t.cos.select(1, col), at::ones({5}, at::kDouble))) << "axis " << axis << " col " << col;
        EXPECT_TRUE(at::equal(t.sin.select(1, col), at::zeros({5}, at::kDouble))) << "axis " << axis << " col " << col;
      }
    }
  }
}

TEST(RopeTest, GridPositionsMapToTheirRows) {
  const int64_t d = 32;
  const std::array<int64_t, 3> grid = {3, 4, 5};
  const auto split = Split(d);
  const RopeTables t = MakeRopeTables(d, grid, torch::kCPU);
  ASSERT_EQ(t.cos.size(0), 3 * 4 * 5);
  for (int64_t f = 0; f < grid[0]; ++f) {
    for (int64_t h = 0; h < grid[1]; ++h) {
      for (int64_t w = 0; w < grid[2]; ++w) {
        const int64_t row = (f * grid[1] + h) * grid[2] + w;
        std::vector<double> angles;
        for (int64_t j = 0; j < split[0]; ++j) angles.push_back(Angle(f, j, split[0]));
        for (int64_t j = 0; j < split[1]; ++j) angles.push_back(Angle(h, j, split[1]));
        for (int64_t j = 0; j < split[2]; ++j) angles.push_back(Angle(w, j, split[2]));
        for (size_t j = 0; j < angles.size(); ++j) {
          EXPECT_NEAR(t.cos[row][j].item<double>(), std::cos(angles[j]), 1e-12) << row << "," << j;
          EXPECT_NEAR(t.sin[row][j].item<double>(), std::sin(angles[j]), 1e-12) << row << "," << j;
        }
      }
    }
  }
}

TEST(RopeTest, ApplyRopeRotatesPairsAndLeavesPaddingRows) {
  const int64_t d = 16, heads = 2;
  const RopeTables t = MakeRopeTables(d, {2, 1, 2}, torch::kCPU);
  const torch::Tensor x = at::arange(6 * heads * d, at::kFloat).reshape({6, heads, d}).div(50.0);
  const torch::Tensor y = ApplyRope(x, t);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_EQ(y.scalar_type(), at::kFloat);
  // Rows past the grid (padding) are returned unchanged.
  EXPECT_TRUE(at::equal(y.narrow(0, 4, 2), x.narrow(0, 4, 2)));
  // Row 3 (f = 1, w = 1), head 1, pair 0 is a frame column: angle 1.
  const double a = x[3][1][0].item<double>(), b = x[3][1][1].item<double>();
  const double ang = t.cos[3][0].item<double>();
  EXPECT_DOUBLE_EQ(ang, std::cos(1.0));
  EXPECT_NEAR(y[3][1][0].item<double>(), a * std::cos(1.0) - b * std::sin(1.0), 1e-6);
  EXPECT_NEAR(y[3][1][1].item<double>(), a * std::sin(1.0) + b * std::cos(1.0), 1e-6);
  // Rotation preserves the norm of every row.
  EXPECT_TRUE(at::allclose(y.narrow(0, 0, 4).norm(2, -1), x.narrow(0, 0, 4).norm(2, -1), 1e-5, 1e-5));
}

TEST(SinusoidalEmbeddingTest, MatchesTheFloat64Formula) {
  const int64_t dim = 256;
  const std::vector<double> ts = {0.0, 1.0, 999.0, 437.25};
  const torch::Tensor t = at::tensor(ts, at::kDouble);
  const torch::Tensor e = SinusoidalEmbedding(dim, t);
  ASSERT_EQ(e.sizes(), (c10::IntArrayRef{4, dim}));
  ASSERT_EQ(e.scalar_type(), at::kDouble);
  const int64_t half = dim / 2;
  for (size_t b = 0; b < ts.size(); ++b) {
    for (int64_t i = 0; i < half; ++i) {
      const double f = std::pow(10000.0, -static_cast<double>(i) / static_cast<double>(half));
      EXPECT_NEAR(e[b][i].item<double>(), std::cos(ts[b] * f), 1e-12) << b << "," << i;
      EXPECT_NEAR(e[b][half + i].item<double>(), std::sin(ts[b] * f), 1e-12) << b << "," << i;
    }
  }
  // Integer timesteps (what the schedulers produce) are embedded the same way.
  const torch::Tensor from_long = SinusoidalEmbedding(dim, at::tensor(std::vector<int64_t>{999}, at::kLong));
  EXPECT_TRUE(at::equal(from_long[0], e[2]));
}

// Chunked application (bounded float64 temporaries) is bit-identical to one
// whole-sequence rotation, including rows beyond the tables (padding).
TEST(RopeTest, ChunkedRotationEqualsWholeSequence) {
  const std::array<int64_t, 3> grid = {3, 30, 40};  // 3600 tokens > kRopeChunkRows
  ASSERT_GT(grid[0] * grid[1] * grid[2], kRopeChunkRows);
  const RopeTables tables = MakeRopeTables(16, grid, at::kCPU);
  const int64_t len = tables.cos.size(0), padded = len + 7;
  const torch::Tensor x = at::randn({padded, 2, 16});
  const torch::Tensor pairs = x.narrow(0, 0, len).to(at::kDouble).contiguous().view({len, 2, 8, 2});
  const torch::Tensor freqs = at::complex(tables.cos, tables.sin).unsqueeze(1);
  const torch::Tensor whole = at::view_as_real(at::view_as_complex(pairs) * freqs).view({len, 2, 16}).to(at::kFloat);
  const torch::Tensor out = ApplyRope(x, tables);
  EXPECT_TRUE(at::equal(out.narrow(0, 0, len), whole));
  EXPECT_TRUE(at::equal(out.narrow(0, len, 7), x.narrow(0, len, 7)));
}

}  // namespace
}  // namespace videogen::models

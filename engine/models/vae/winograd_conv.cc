#include "engine/models/vae/winograd_conv.h"

#include <algorithm>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include "engine/common/runtime.h"
#include "engine/models/common/onednn_gemm.h"
#include "engine/models/common/vector_math.h"

namespace videogen::models::vae {
namespace {

// Values of a transformed 4x4 tile: position p = 4 * row + column.
constexpr int64_t kPositions = 16;
// Output frames one task computes (its input frames: these + kt - 1).
constexpr int64_t kFramesPerTask = 4;
// WinogradOptions::tiles_per_task's default: kt * C_in * tiles ~ this many floats.
constexpr int64_t kGemmPanelFloats = 147456;

bool WinogradEnabled() {
  static const bool enabled = !EnvTurnsOff("VIDEOGEN_WINOGRAD");
  return enabled;
}

// A run of tiles within one tile row: row i, columns j0 .. j0 + count - 1,
// stored at offset `at` of the task's tile block.
struct Segment {
  int64_t i, j0, count, at;
};

std::vector<Segment> SegmentsOf(int64_t n0, int64_t n, int64_t tiles_w) {
  std::vector<Segment> segments;
  for (int64_t t = n0; t < n0 + n;) {
    const int64_t i = t / tiles_w, j0 = t % tiles_w;
    const int64_t count = std::min(tiles_w - j0, n0 + n - t);
    segments.push_back({i, j0, count, t - n0});
    t += count;
  }
  return segments;
}

// The input columns tiles j0 .. j0 + count - 1 read (2 * j0 - 1 .. 2 * (j0 +
// count)), zero outside the row of width w, split by parity:
// e[k] = column 2 (j0 + k) - 1, o[k] = column 2 (j0 + k), k in [0, count].
VIDEOGEN_VECTOR_LOOP inline void SplitColumns(const float* row, int64_t w, int64_t j0, int64_t count, float* e,
                                              float* o) {
  // k in [begin, end): both columns inside the row; the rest at its edges.
  const int64_t begin = j0 == 0 ? 1 : 0;                                       // column 2 (j0 + k) - 1 >= 0
  const int64_t end = std::max(begin, std::min(count + 1, (w + 1) / 2 - j0));  // column 2 (j0 + k) < w
  if (begin == 1) {
    e[0] = 0.0f;
    o[0] = row[0];
  }
  for (int64_t k = begin; k < end; ++k) {
    e[k] = row[2 * (j0 + k) - 1];
    o[k] = row[2 * (j0 + k)];
  }
  for (int64_t k = end; k <= count; ++k) {
    const int64_t ce = 2 * (j0 + k) - 1;
    e[k] = ce < w ? row[ce] : 0.0f;
    o[k] = 0.0f;
  }
}

// 16 floats as one value: GCC lowers its arithmetic to the widest vectors of
// the build (one AVX-512 register, two AVX2, four SSE).
typedef float Vec16 __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;

VIDEOGEN_VECTOR_LOOP inline Vec16 Load(const float* p) {
  Vec16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
VIDEOGEN_VECTOR_LOOP inline void Store(float* p, Vec16 v) { __builtin_memcpy(p, &v, sizeof v); }

// Rounds up to whole vectors.
constexpr int64_t Lanes(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// B^T d B of each tile of a segment of one plane (rows h, width w) into
// v[p * p_stride + k]: d is the 4x4 input window of tile (i, j0 + k) with
// top-left corner (2 i - 1, 2 (j0 + k) - 1), zero-padded.
// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
// Writes whole vectors: v[p * p_stride + k] for k up to Lanes(count) - 1, the
// values past count unspecified. scratch: 8 * (Lanes(count) + kLanes) floats.
VIDEOGEN_VECTOR_LOOP inline void TransformInput(const float* plane, int64_t h, int64_t w, const Segment& s, float* v,
                                                int64_t p_stride, float* scratch) {
  const int64_t len = Lanes(s.count) + kLanes;  // e[k + 1] read up to Lanes(count)
  float* e[4];
  float* o[4];
  for (int q = 0; q < 4; ++q) {
    e[q] = scratch + 2 * q * len;
    o[q] = e[q] + len;
    const int64_t r = 2 * s.i - 1 + q;
    if (r >= 0 && r < h) {
      SplitColumns(plane + r * w, w, s.j0, s.count, e[q], o[q]);
      for (int64_t k = s.count + 1; k < len; ++k) e[q][k] = o[q][k] = 0.0f;
    } else {
      for (int64_t k = 0; k < len; ++k) e[q][k] = o[q][k] = 0.0f;
    }
  }
  for (int64_t k = 0; k < s.count; k += kLanes) {
    // Columns of d: x0 = e[k], x1 = o[k], x2 = e[k + 1], x3 = o[k + 1]; the
    // column transform of each row q first, then the row transform.
    Vec16 c[4][4];
    for (int q = 0; q < 4; ++q) {
      const Vec16 x0 = Load(e[q] + k), x1 = Load(o[q] + k), x2 = Load(e[q] + k + 1), x3 = Load(o[q] + k + 1);
      c[q][0] = x0 - x2;
      c[q][1] = x1 + x2;
      c[q][2] = x2 - x1;
      c[q][3] = x1 - x3;
    }
    for (int col = 0; col < 4; ++col) {
      Store(v + (0 + col) * p_stride + k, c[0][col] - c[2][col]);
      Store(v + (4 + col) * p_stride + k, c[1][col] + c[2][col]);
      Store(v + (8 + col) * p_stride + k, c[2][col] - c[1][col]);
      Store(v + (12 + col) * p_stride + k, c[1][col] - c[3][col]);
    }
  }
}

// A^T m A + bias of each tile of a segment (m[p * p_stride + k]) into the
// output plane (rows h, width w), clipped at its edges.
// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
VIDEOGEN_VECTOR_LOOP inline void TransformOutput(const float* m, int64_t p_stride, float bias, const Segment& s,
                                                 float* plane, int64_t h, int64_t w, float* scratch) {
  float* y00 = scratch;
  float* y01 = y00 + s.count;
  float* y10 = y01 + s.count;
  float* y11 = y10 + s.count;
  for (int64_t k = 0; k < s.count; ++k) {
    float r0[4], r1[4];
    for (int col = 0; col < 4; ++col) {
      const float m0 = m[(0 + col) * p_stride + k], m1 = m[(4 + col) * p_stride + k];
      const float m2 = m[(8 + col) * p_stride + k], m3 = m[(12 + col) * p_stride + k];
      r0[col] = m0 + m1 + m2;
      r1[col] = m1 - m2 - m3;
    }
    y00[k] = r0[0] + r0[1] + r0[2] + bias;
    y01[k] = r0[1] - r0[2] - r0[3] + bias;
    y10[k] = r1[0] + r1[1] + r1[2] + bias;
    y11[k] = r1[1] - r1[2] - r1[3] + bias;
  }
  // Tiles whose second column is inside the plane, then at most one more
  // (an odd width's last column).
  const int64_t full = std::min(s.count, w / 2 - s.j0);
  float* row0 = plane + 2 * s.i * w + 2 * s.j0;
  for (int64_t k = 0; k < full; ++k) {
    row0[2 * k] = y00[k];
    row0[2 * k + 1] = y01[k];
  }
  if (full < s.count) row0[2 * full] = y00[full];
  if (2 * s.i + 1 < h) {
    float* row1 = row0 + w;
    for (int64_t k = 0; k < full; ++k) {
      row1[2 * k] = y10[k];
      row1[2 * k + 1] = y11[k];
    }
    if (full < s.count) row1[2 * full] = y10[full];
  }
}

}  // namespace

bool WinogradApplies(const torch::Tensor& input, const torch::Tensor& weight, at::IntArrayRef stride,
                     at::IntArrayRef padding) {
  if (!WinogradEnabled() || !FloatGemmAvailable()) return false;
  if (!input.defined() || !weight.defined() || input.dim() != 5 || weight.dim() != 5) return false;
  if (!input.device().is_cpu() || !weight.device().is_cpu()) return false;
  if (input.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat) return false;
  if (at::GradMode::is_enabled() && (input.requires_grad() || weight.requires_grad())) return false;
  if (weight.size(3) != 3 || weight.size(4) != 3 || weight.size(1) != input.size(1)) return false;
  if (weight.size(2) < 1 || weight.size(2) > input.size(2) || input.size(1) == 0) return false;
  const std::vector<int64_t> unit = {1, 1, 1}, pad = {0, 1, 1};
  return stride.vec() == unit && padding.vec() == pad;
}

torch::Tensor WinogradWeights(const torch::Tensor& weight_in) {
  RECORD_FUNCTION("videogen::WinogradWeights", std::vector<c10::IValue>());
  TORCH_CHECK(weight_in.dim() == 5 && weight_in.size(3) == 3 && weight_in.size(4) == 3 && weight_in.device().is_cpu(),
              "WinogradWeights: weight must be a CPU tensor [C_out, C_in, kt, 3, 3]");
  const torch::Tensor weight = weight_in.to(at::kFloat).contiguous();
  const int64_t c_out = weight.size(0), c_in = weight.size(1), kt = weight.size(2), k_dim = kt * c_in;
  torch::Tensor out = at::empty({kPositions, c_out, k_dim}, weight.options());
  const float* wp = weight.data_ptr<float>();
  float* up = out.data_ptr<float>();
  const int64_t plane = c_out * k_dim;  // stride of a position p in `out`
  // U = G g G^T per 3x3 kernel g, in float64, rounded once.
  // G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
  at::parallel_for(0, c_out, 1, [&](int64_t begin, int64_t end) {
    // Channels innermost: each position's stores run along one row of `out`.
    for (int64_t o = begin; o < end; ++o) {
      for (int64_t tap = 0; tap < kt; ++tap) {
        for (int64_t c = 0; c < c_in; ++c) {
          const float* g = wp + ((o * c_in + c) * kt + tap) * 9;
          double t[4][3];  // G g
          for (int s = 0; s < 3; ++s) {
            const double g0 = g[s], g1 = g[3 + s], g2 = g[6 + s];
            t[0][s] = g0;
            t[1][s] = 0.5 * (g0 + g1 + g2);
            t[2][s] = 0.5 * (g0 - g1 + g2);
            t[3][s] = g2;
          }
          float* dst = up + o * k_dim + tap * c_in + c;
          for (int r = 0; r < 4; ++r) {
            dst[(4 * r + 0) * plane] = static_cast<float>(t[r][0]);
            dst[(4 * r + 1) * plane] = static_cast<float>(0.5 * (t[r][0] + t[r][1] + t[r][2]));
            dst[(4 * r + 2) * plane] = static_cast<float>(0.5 * (t[r][0] - t[r][1] + t[r][2]));
            dst[(4 * r + 3) * plane] = static_cast<float>(t[r][2]);
          }
        }
      }
    }
  });
  return out;
}

torch::Tensor WinogradConv(const torch::Tensor& input_in, const torch::Tensor& transformed, int64_t kt,
                           const torch::Tensor& bias_in, const WinogradOptions& options) {
  // The inputs let a profiler count the direct convolution's FLOPs (bench/common/op_flops.h).
  RECORD_FUNCTION("videogen::WinogradConv", std::vector<c10::IValue>({input_in, transformed}));
  TORCH_CHECK(input_in.dim() == 5 && input_in.scalar_type() == at::kFloat && input_in.device().is_cpu(),
              "WinogradConv: input must be a float32 CPU tensor [B, C_in, T, H, W]");
  const torch::Tensor input = input_in.contiguous();
  const int64_t batch = input.size(0), c_in = input.size(1), t_in = input.size(2), h = input.size(3), w = input.size(4);
  TORCH_CHECK(kt >= 1 && kt <= t_in, "WinogradConv: kt ", kt, " for ", t_in, " input frames");
  TORCH_CHECK(c_in > 0, "WinogradConv: no input channels");
  TORCH_CHECK(transformed.dim() == 3 && transformed.size(0) == kPositions && transformed.size(2) == kt * c_in &&
                  transformed.scalar_type() == at::kFloat && transformed.is_contiguous(),
              "WinogradConv: transformed weights must be WinogradWeights of a [C_out, ", c_in, ", ", kt,
              ", 3, 3] weight");
  const int64_t c_out = transformed.size(1), k_dim = kt * c_in;
  const torch::Tensor bias = bias_in.defined() ? bias_in.to(at::kFloat).contiguous() : torch::Tensor();
  TORCH_CHECK(!bias.defined() || bias.numel() == c_out, "WinogradConv: bias needs ", c_out, " values");
  const int64_t t_out = t_in - kt + 1;
  torch::Tensor out = at::empty({batch, c_out, t_out, h, w}, input.options());
  if (out.numel() == 0) return out;

  const int64_t tiles_h = (h + 1) / 2, tiles_w = (w + 1) / 2, tiles = tiles_h * tiles_w;
  const int64_t groups = (t_out + kFramesPerTask - 1) / kFramesPerTask;
  int64_t nb = options.tiles_per_task;
  if (nb <= 0) {
    nb = std::clamp<int64_t>(Lanes(kGemmPanelFloats / k_dim), 64, 512);
    const int64_t wanted_blocks = (2 * at::get_num_threads() + batch * groups - 1) / (batch * groups);
    nb = std::min(nb, std::max<int64_t>(kLanes, Lanes((tiles + wanted_blocks - 1) / wanted_blocks)));
  }
  nb = std::min(nb, tiles);
  const int64_t blocks = (tiles + nb - 1) / nb;
  const int64_t zero_frames = std::max<int64_t>(0, options.zero_frames);
  // V's rows hold the whole vectors TransformInput writes past a segment's
  // last tile (up to 15 floats past the block's last).
  const int64_t nb_row = Lanes(nb) + kLanes;
  const float* x = input.data_ptr<float>();
  const float* u = transformed.data_ptr<float>();
  const float* bp = bias.defined() ? bias.data_ptr<float>() : nullptr;
  float* y = out.data_ptr<float>();
  const int64_t plane = h * w;

  at::parallel_for(0, batch * groups * blocks, 1, [&](int64_t begin, int64_t end) {
    const int64_t max_frames = std::min(kFramesPerTask, t_out);
    // V[p][frame][c][tile] and M[p][frame][c_out][tile]: the GEMMs' B and C.
    std::unique_ptr<float[]> v(new float[kPositions * (max_frames + kt - 1) * c_in * nb_row]);
    std::unique_ptr<float[]> m(new float[kPositions * max_frames * c_out * nb]);
    std::unique_ptr<float[]> scratch(new float[8 * (Lanes(nb) + kLanes)]);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (groups * blocks), group = (task / blocks) % groups, block = task % blocks;
      const int64_t t0 = group * kFramesPerTask, frames = std::min(kFramesPerTask, t_out - t0);
      const int64_t frames_in = frames + kt - 1;
      const int64_t n0 = block * nb, n = std::min(nb, tiles - n0);
      const std::vector<Segment> segments = SegmentsOf(n0, n, tiles_w);
      const int64_t v_p = frames_in * c_in * nb_row;  // stride of p in V
      const int64_t m_p = frames * c_out * nb;        // stride of p in M
      vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
        for (int64_t f = std::max<int64_t>(0, zero_frames - t0); f < frames_in; ++f) {
          for (int64_t c = 0; c < c_in; ++c) {
            const float* src = x + ((b * c_in + c) * t_in + t0 + f) * plane;
            float* dst = v.get() + (f * c_in + c) * nb_row;
            for (const Segment& s : segments) TransformInput(src, h, w, s, dst + s.at, v_p, scratch.get());
          }
        }
      });
      for (int64_t f = 0; f < frames; ++f) {
        // Output frame t0 + f reads input frames t0 + f + tap; taps on known
        // zero frames are left out of K (tap * C_in + c).
        const int64_t skip = std::clamp<int64_t>(zero_frames - (t0 + f), 0, kt);
        for (int64_t p = 0; p < kPositions; ++p) {
          float* c_block = m.get() + p * m_p + f * c_out * nb;
          if (skip == kt) {
            std::fill(c_block, c_block + c_out * nb, 0.0f);
            continue;
          }
          // M[p][f] (C_out x n) = U[p] (C_out x kt C_in) * V[p][f .. f + kt - 1] (kt C_in x n).
          FloatGemm(false, c_out, n, (kt - skip) * c_in, 1.0f, u + p * c_out * k_dim + skip * c_in, k_dim,
                    v.get() + p * v_p + (f + skip) * c_in * nb_row, nb_row, 0.0f, c_block, nb);
        }
      }
      vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
        for (int64_t f = 0; f < frames; ++f) {
          for (int64_t o = 0; o < c_out; ++o) {
            float* dst = y + ((b * c_out + o) * t_out + t0 + f) * plane;
            const float* src = m.get() + (f * c_out + o) * nb;
            const float bias_o = bp != nullptr ? bp[o] : 0.0f;
            for (const Segment& s : segments) TransformOutput(src + s.at, m_p, bias_o, s, dst, h, w, scratch.get());
          }
        }
      });
    }
  });
  return out;
}

}  // namespace videogen::models::vae

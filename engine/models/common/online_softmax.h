// One key block of attention's online softmax for a float32 score tile,
// writing the probabilities for the PV GEMM (bf16, or float32 in place): the
// element-wise half of a BlockedAttention tile in two passes per row (max,
// then exp / store / sum), instead of six LibTorch ops each reading the whole
// tile.
#pragma once

#include <cstdint>

namespace videogen::models {

// For each row r of the [rows, cols] scores s (row stride ld_s):
//   m_new  = max(m[r], max_j s[r, j])            (first: max_j s[r, j])
//   e_j    = exp(s[r, j] - m_new), p[r, j] = e_j rounded to bf16 (bits; row stride ld_p)
//   first: l[r] = sum_j e_j
//   else:  a = exp(m[r] - m_new), l[r] = l[r] * a + sum_j e_j, acc[r, 0..d) *= a
//   m[r]   = m_new
// Sums are of the unrounded e_j, in float32. exp is accurate to ~2e-7
// relative for arguments above -87 and flushes below to ~exp(-87) (a weight
// < 1e-37 next to the row maximum's 1). A NaN score makes its row's sum, and
// so the row's output, NaN. Runs on the calling thread; AVX-512 / AVX2 /
// baseline clone chosen by the CPU.
void OnlineSoftmaxBlockBf16(const float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                            float* acc, int64_t d, uint16_t* p, int64_t ld_p);

// OnlineSoftmaxBlockBf16's contract with p = e_j in float32, written over s
// (ld_p = ld_s).
void OnlineSoftmaxBlockInPlace(float* s, int64_t rows, int64_t cols, int64_t ld_s, bool first, float* m, float* l,
                               float* acc, int64_t d);

// The attention tile's last step: out[r, i] = acc[r, i] / l[r] in float32,
// rounded to bf16 (nearest even; NaN as 0x7fc0) into `out` (bits; row stride
// ld_out), for rows [0, rows) of the [rows, d] accumulator. The same values as
// at::div_out into a bf16 tensor, in one vectorised pass per row (the
// TensorIterator's casting loop cost 0.25 ms per 256 x 128 tile).
void DivideRowsToBf16(const float* acc, int64_t rows, int64_t d, const float* l, uint16_t* out, int64_t ld_out);

// The same into a float32 `out` (at::div_out's values: one division each).
void DivideRowsToFloat(const float* acc, int64_t rows, int64_t d, const float* l, float* out, int64_t ld_out);

}  // namespace videogen::models

#include "engine/models/common/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include "engine/models/common/onednn_gemm.h"
#include "engine/models/common/online_softmax.h"

namespace videogen::models {
namespace {

double Scale(const torch::Tensor& q, const AttentionOptions& options) {
  return options.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
}

// How one tile's two GEMMs run; fixed per BlockedAttention call.
struct TilePlan {
  at::ScalarType qk_dtype;     // q and k as the QK^T GEMM reads them
  at::ScalarType score_dtype;  // that GEMM's output
  at::ScalarType value_dtype;  // v and the probabilities as the PV GEMM reads them
  // Both GEMMs through Bf16FloatGemm (CPU only): bf16 inputs, float32 scores,
  // and PV accumulated straight into the float32 accumulator.
  bool mixed = false;
  // Both GEMMs through FloatGemm (CPU only; all three dtypes float32).
  bool float_gemm = false;
  // The softmax step as one OnlineSoftmaxBlockBf16 / OnlineSoftmaxBlockInPlace
  // pass (CPU only; float32 scores) instead of LibTorch ops.
  bool fused_softmax = false;
};

TilePlan PlanTiles(const torch::Tensor& q, const AttentionOptions& options, const AttentionBlocks& blocks) {
  const bool cpu = q.device().is_cpu();
  if (q.scalar_type() != at::kBFloat16) {
    TilePlan plan{at::kFloat, at::kFloat, at::kFloat};
    plan.float_gemm = cpu && blocks.float_gemm && FloatGemmAvailable();
    plan.fused_softmax = cpu && blocks.fused_softmax;
    return plan;
  }
  if (options.score_precision == ScorePrecision::kInputDtype) return {at::kBFloat16, at::kBFloat16, at::kBFloat16};
  TilePlan plan{at::kFloat, at::kFloat, at::kBFloat16};
  if (cpu && blocks.mixed_gemm && Bf16FloatGemmAvailable()) {
    plan.qk_dtype = at::kBFloat16;
    plan.mixed = true;
  }
  plan.fused_softmax = cpu && blocks.fused_softmax;
  return plan;
}

// Per-thread scratch of one (query block x key block) tile, allocated once per
// BlockedAttention call so the inner loop never allocates.
struct TileScratch {
  torch::Tensor scores;     // [bq * bk] score dtype: QK^T GEMM output
  torch::Tensor probs;      // [bq * bk] float32: scores, then exp(scores - max)
  torch::Tensor probs_low;  // [bq * bk] value dtype (bf16 only): probs rounded for the PV GEMM
  torch::Tensor pv;         // [bq, D] value dtype (bf16 without the mixed GEMM only): PV GEMM output
  torch::Tensor acc;        // [bq, D] float32
  torch::Tensor row_max;    // [bq, 1] float32
  torch::Tensor row_sum;    // [bq, 1] float32
  torch::Tensor block_max;  // [bq, 1] float32
  torch::Tensor alpha;      // [bq, 1] float32
};

TileScratch MakeScratch(int64_t bq, int64_t bk, int64_t d, const TilePlan& plan) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  TileScratch t;
  t.scores = at::empty({bq * bk}, f32.dtype(plan.score_dtype));
  t.probs = plan.score_dtype == at::kFloat ? t.scores : at::empty({bq * bk}, f32);
  if (plan.value_dtype != at::kFloat) t.probs_low = at::empty({bq * bk}, f32.dtype(plan.value_dtype));
  if (plan.value_dtype != at::kFloat && !plan.mixed) t.pv = at::empty({bq, d}, f32.dtype(plan.value_dtype));
  t.acc = at::empty({bq, d}, f32);
  t.row_max = at::empty({bq, 1}, f32);
  t.row_sum = at::empty({bq, 1}, f32);
  t.block_max = at::empty({bq, 1}, f32);
  t.alpha = at::empty({bq, 1}, f32);
  return t;
}

// x: [B, L, H, D] -> [B, H, L, D] in `dtype`, every (batch, head) an [L, D]
// matrix with contiguous rows: a view when x's last dimension is unit-stride
// and already `dtype` (the row stride is then H * D for a contiguous x; the tile
// GEMMs take row strides), so no transposed copy is made; else converted/copied.
torch::Tensor HeadMajor(const torch::Tensor& x, at::ScalarType dtype) {
  const torch::Tensor h = x.transpose(1, 2).to(dtype);
  return h.stride(3) == 1 ? h : h.contiguous();
}

const c10::BFloat16* Bf16Data(const torch::Tensor& t) { return t.data_ptr<c10::BFloat16>(); }

// The online softmax step of one key block with LibTorch ops, on the float32
// scores p [bq, bk], overwritten with exp(p - new max): updates the running
// max m and sum l and rescales acc (`first`: starts them; bm and alpha are scratch).
void SoftmaxStepOps(torch::Tensor& p, bool first, torch::Tensor& m, torch::Tensor& l, torch::Tensor& bm,
                    torch::Tensor& alpha, torch::Tensor& acc) {
  at::amax_out(first ? m : bm, p, {1}, /*keepdim=*/true);
  if (!first) {
    at::maximum_out(bm, m, bm);        // bm = new max
    at::sub_out(alpha, m, bm).exp_();  // alpha = exp(m_old - m_new)
    m.copy_(bm);
  }
  p.sub_(m).exp_();
  if (first) {
    at::sum_out(l, p, {1}, /*keepdim=*/true);
  } else {
    l.mul_(alpha).add_(p.sum(1, /*keepdim=*/true));
    acc.mul_(alpha);
  }
}

// One query tile of one head against keys [0, lk): writes softmax(q k^T * scale) v
// into `out` ([bq, D], any strides). q: [bq, D] and k: [lk, D] in plan.qk_dtype;
// v: [lk, D] in plan.value_dtype; all with contiguous rows.
void AttendTile(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale, int64_t key_block,
                const TilePlan& plan, TileScratch& t, torch::Tensor out) {
  // q: [bq, D]; k, v: [lk, D]
  const int64_t bq = q.size(0), lk = k.size(0), d = q.size(1);
  torch::Tensor acc = t.acc.narrow(0, 0, bq), m = t.row_max.narrow(0, 0, bq), l = t.row_sum.narrow(0, 0, bq);
  torch::Tensor bm = t.block_max.narrow(0, 0, bq), alpha = t.alpha.narrow(0, 0, bq);
  for (int64_t k0 = 0; k0 < lk; k0 += key_block) {
    const int64_t bk = std::min(key_block, lk - k0);
    const torch::Tensor kt = k.narrow(0, k0, bk), vt = v.narrow(0, k0, bk);
    torch::Tensor s = t.scores.narrow(0, 0, bq * bk).view({bq, bk});
    const bool first = k0 == 0;
    const float beta = first ? 0.0f : 1.0f;  // the PV GEMM starts or adds to the accumulator
    if (plan.mixed) {
      Bf16FloatGemm(/*transpose_b=*/true, bq, bk, d, static_cast<float>(scale), Bf16Data(q), q.stride(0), Bf16Data(kt),
                    kt.stride(0), /*beta=*/0, s.data_ptr<float>(), bk);
    } else if (plan.float_gemm) {
      FloatGemm(/*transpose_b=*/true, bq, bk, d, static_cast<float>(scale), q.data_ptr<float>(), q.stride(0),
                kt.data_ptr<float>(), kt.stride(0), /*beta=*/0, s.data_ptr<float>(), bk);
    } else {
      at::addmm_out(s, s, q, kt.t(), /*beta=*/0, /*alpha=*/scale);  // [bq, bk]
    }
    if (plan.value_dtype == at::kFloat) {  // the probabilities replace the scores
      if (plan.fused_softmax) {
        OnlineSoftmaxBlockInPlace(s.data_ptr<float>(), bq, bk, bk, first, m.data_ptr<float>(), l.data_ptr<float>(),
                                  acc.data_ptr<float>(), d);
      } else {
        SoftmaxStepOps(s, first, m, l, bm, alpha, acc);
      }
      if (plan.float_gemm) {
        FloatGemm(/*transpose_b=*/false, bq, d, bk, /*alpha=*/1, s.data_ptr<float>(), bk, vt.data_ptr<float>(),
                  vt.stride(0), beta, acc.data_ptr<float>(), acc.stride(0));
      } else {
        at::addmm_out(acc, acc, s, vt, beta, /*alpha=*/1);
      }
      continue;
    }
    torch::Tensor lhs = t.probs_low.narrow(0, 0, bq * bk).view({bq, bk});
    if (plan.fused_softmax) {
      OnlineSoftmaxBlockBf16(s.data_ptr<float>(), bq, bk, bk, first, m.data_ptr<float>(), l.data_ptr<float>(),
                             acc.data_ptr<float>(), d, reinterpret_cast<uint16_t*>(lhs.data_ptr<c10::BFloat16>()), bk);
    } else {
      torch::Tensor p = s;
      if (plan.score_dtype != at::kFloat) {
        p = t.probs.narrow(0, 0, bq * bk).view({bq, bk});
        p.copy_(s);
      }
      SoftmaxStepOps(p, first, m, l, bm, alpha, acc);
      lhs.copy_(p);
    }
    if (plan.mixed) {
      Bf16FloatGemm(/*transpose_b=*/false, bq, d, bk, /*alpha=*/1, Bf16Data(lhs), bk, Bf16Data(vt), vt.stride(0), beta,
                    acc.data_ptr<float>(), acc.stride(0));
      continue;
    }
    torch::Tensor pv = t.pv.narrow(0, 0, bq);
    at::mm_out(pv, lhs, vt);
    if (first) {
      acc.copy_(pv);
    } else {
      acc.add_(pv);
    }
  }
  if (plan.fused_softmax && out.scalar_type() == at::kBFloat16 && out.stride(1) == 1) {
    DivideRowsToBf16(acc.data_ptr<float>(), bq, d, l.data_ptr<float>(),
                     reinterpret_cast<uint16_t*>(out.data_ptr<c10::BFloat16>()), out.stride(0));
  } else if (plan.fused_softmax && out.scalar_type() == at::kFloat && out.stride(1) == 1) {
    DivideRowsToFloat(acc.data_ptr<float>(), bq, d, l.data_ptr<float>(), out.data_ptr<float>(), out.stride(0));
  } else {
    at::div_out(out, acc, l);
  }
}

}  // namespace

torch::Tensor ValidKeyMask(const torch::Tensor& key_lens, int64_t lk, torch::Device device) {
  const torch::Tensor idx = at::arange(lk, torch::TensorOptions().dtype(torch::kLong).device(device)).view({1, lk});
  return (idx < key_lens.to(device).view({-1, 1})).view({-1, 1, 1, lk});
}

torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const AttentionOptions& options) {
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  const torch::Tensor qh = q.transpose(1, 2).to(torch::kFloat32);
  const torch::Tensor kh = k.transpose(1, 2).to(torch::kFloat32);
  const torch::Tensor vh = v.transpose(1, 2).to(torch::kFloat32);
  torch::Tensor scores = at::matmul(qh, kh.transpose(-2, -1)) * Scale(q, options);
  if (options.key_lens) {
    scores = scores.masked_fill(ValidKeyMask(*options.key_lens, k.size(1), q.device()).logical_not(),
                                -std::numeric_limits<float>::infinity());
  }
  return at::matmul(at::softmax(scores, -1), vh).transpose(1, 2).contiguous().to(q.scalar_type());
}

torch::Tensor BlockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const AttentionOptions& options, const AttentionBlocks& blocks) {
  RECORD_FUNCTION("videogen::BlockedAttention", std::vector<c10::IValue>());
  // q: [B, Lq, H, D]; k, v: [B, Lk, H, D]
  const int64_t batch = q.size(0), lq = q.size(1), heads = q.size(2), d = q.size(3);
  const double scale = Scale(q, options);
  const TilePlan plan = PlanTiles(q, options, blocks);
  const int64_t query_block = std::max<int64_t>(1, std::min(blocks.query_block, lq));
  const int64_t key_block = std::max<int64_t>(1, std::min(blocks.key_block, k.size(1)));
  torch::Tensor out = at::empty({batch, lq, heads, d}, q.options());
  std::vector<int64_t> lens(batch, k.size(1));
  if (options.key_lens) {
    const torch::Tensor kl = options.key_lens->to(torch::kCPU, torch::kLong).contiguous();
    for (int64_t b = 0; b < batch; ++b) lens[b] = std::min<int64_t>(kl.data_ptr<int64_t>()[b], k.size(1));
  }
  const torch::Tensor qh = HeadMajor(q, plan.qk_dtype), kh = HeadMajor(k, plan.qk_dtype);
  const torch::Tensor vh = HeadMajor(v, plan.value_dtype);
  const int64_t q_tiles = (lq + query_block - 1) / query_block;
  const int64_t tasks = batch * heads * q_tiles;
  std::vector<TileScratch> scratch(at::get_num_threads());
  // One task per (batch, head, query tile); the GEMMs inside run on the
  // calling thread (nested parallelism is off inside at::parallel_for).
  at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
    c10::InferenceMode inference;
    TileScratch& t = scratch[at::get_thread_num()];
    if (!t.acc.defined()) t = MakeScratch(query_block, key_block, d, plan);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (heads * q_tiles), h = (task / q_tiles) % heads, q0 = (task % q_tiles) * query_block;
      const int64_t bq = std::min(query_block, lq - q0);
      torch::Tensor dst = out[b].narrow(0, q0, bq).select(1, h);
      if (lens[b] <= 0) {
        dst.fill_(std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      AttendTile(qh[b][h].narrow(0, q0, bq), kh[b][h].narrow(0, 0, lens[b]), vh[b][h].narrow(0, 0, lens[b]), scale,
                 key_block, plan, t, dst);
    }
  });
  return out;
}

torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const AttentionOptions& options) {
  if (ChosenAttentionKernel(q.device().type(), q.scalar_type()) == AttentionKernel::kFusedSdpa) {
    return FusedSdpaAttention(q, k, v, options);
  }
  return BlockedAttention(q, k, v, options);
}

}  // namespace videogen::models

#include "engine/models/t5/t5_layers.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

namespace videogen::models {
namespace {

// finfo(dtype).min, the reference's fill value for masked keys.
double LowestOf(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kBFloat16: return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kHalf: return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    case torch::kDouble: return std::numeric_limits<double>::lowest();
    default: return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

// fp16_clamp: float16 activations that overflowed are pulled back into range.
torch::Tensor Fp16Clamp(const torch::Tensor& x) {
  if (x.scalar_type() != torch::kHalf || !at::isinf(x).any().item<bool>()) return x;
  const double clamp = static_cast<double>(std::numeric_limits<c10::Half>::max()) - 1000.0;
  return at::clamp(x, -clamp, clamp);
}

}  // namespace

T5LinearImpl::T5LinearImpl(int64_t in, int64_t out, const torch::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({out, in}, options), /*requires_grad=*/false);
}

torch::Tensor T5LinearImpl::forward(const torch::Tensor& x) {
  // x: [..., in]
  return at::linear(x, weight);
}

T5EmbeddingImpl::T5EmbeddingImpl(int64_t num, int64_t dim, const torch::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({num, dim}, options), /*requires_grad=*/false);
}

torch::Tensor T5EmbeddingImpl::forward(const torch::Tensor& ids) {
  // ids: [...] int64
  return at::embedding(weight, ids);
}

T5LayerNormImpl::T5LayerNormImpl(int64_t dim, double eps, const torch::TensorOptions& options) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}, options), /*requires_grad=*/false);
}

torch::Tensor T5LayerNormImpl::forward(const torch::Tensor& x) {
  // x: [..., dim]
  const torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor y = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (weight.scalar_type() == torch::kHalf || weight.scalar_type() == torch::kBFloat16) {
    y = y.to(weight.scalar_type());
  }
  return weight * y;
}

torch::Tensor RelativePositionBucket(const torch::Tensor& rel_pos, int64_t num_buckets, bool bidirectional,
                                     int64_t max_dist) {
  torch::Tensor buckets;
  torch::Tensor distance;
  int64_t n = num_buckets;
  if (bidirectional) {
    n = num_buckets / 2;
    buckets = (rel_pos > 0).to(torch::kLong) * n;
    distance = at::abs(rel_pos);
  } else {
    buckets = at::zeros_like(rel_pos, rel_pos.options().dtype(torch::kLong));
    distance = -at::minimum(rel_pos, at::zeros_like(rel_pos));
  }
  const int64_t max_exact = n / 2;
  // float32 log as in the reference; log(0) = -inf only where the exact branch is taken.
  torch::Tensor large =
      max_exact + (at::log(distance.to(torch::kFloat32) / static_cast<double>(max_exact)) /
                   std::log(static_cast<double>(max_dist) / static_cast<double>(max_exact)) *
                   static_cast<double>(n - max_exact))
                      .to(torch::kLong);
  large = at::minimum(large, at::full_like(large, n - 1));
  return buckets + at::where(distance < max_exact, distance.to(torch::kLong), large);
}

T5RelativeEmbeddingImpl::T5RelativeEmbeddingImpl(int64_t num_buckets, int64_t num_heads, bool bidirectional,
                                                 int64_t max_dist, const torch::TensorOptions& options)
    : num_buckets_(num_buckets), max_dist_(max_dist), bidirectional_(bidirectional) {
  embedding_ = register_module("embedding", T5Embedding(num_buckets, num_heads, options));
}

torch::Tensor T5RelativeEmbeddingImpl::forward(int64_t lq, int64_t lk) {
  // -> [1, H, lq, lk]. The bucket of (i, j) depends on j - i alone, so each
  // head's bias is a Toeplitz matrix: its lq + lk - 1 diagonals are looked up
  // once (diag[h, d + lq - 1] for d = j - i), and row i is the slice
  // diag[h, lq-1-i : lq-1-i+lk]. The view R[h, r, j] = diag[h, r + j] holds
  // the rows in reverse order (r = lq - 1 - i); flip writes them out in one
  // pass. The same values as the reference's embedding of the [lq, lk]
  // buckets permuted to [H, lq, lk], whose gather and transposed copy cost
  // 17-26 ms of a 0.27-0.59 s umT5-XXL layer at 512 tokens (measured).
  const torch::TensorOptions idx = torch::TensorOptions().dtype(torch::kLong).device(embedding_->weight.device());
  const torch::Tensor rel_pos = at::arange(-(lq - 1), lk, idx);  // d = j - i
  const torch::Tensor buckets = RelativePositionBucket(rel_pos, num_buckets_, bidirectional_, max_dist_);
  const torch::Tensor diag = embedding_(buckets).t().contiguous();  // [H, lq + lk - 1]
  const int64_t heads = diag.size(0);
  // flip keeps the view's stride order, which for some shapes (lq < lk) is
  // not row-major: contiguous() is a no-op otherwise (lq == lk in the encoder).
  return diag.as_strided({heads, lq, lk}, {lq + lk - 1, 1, 1}).flip({1}).contiguous().unsqueeze(0);
}

T5AttentionImpl::T5AttentionImpl(const T5Config& c, const torch::TensorOptions& options)
    : num_heads_(c.num_heads), head_dim_(c.head_dim()) {
  q_ = register_module("q", T5Linear(c.dim, c.dim_attn, options));
  k_ = register_module("k", T5Linear(c.dim, c.dim_attn, options));
  v_ = register_module("v", T5Linear(c.dim, c.dim_attn, options));
  o_ = register_module("o", T5Linear(c.dim_attn, c.dim, options));
}

torch::Tensor T5AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask,
                                       const torch::Tensor& pos_bias) {
  // x: [B, L, dim]
  const int64_t b = x.size(0), n = num_heads_, c = head_dim_;
  const torch::Tensor q = q_(x).view({b, -1, n, c});
  const torch::Tensor k = k_(x).view({b, -1, n, c});
  const torch::Tensor v = v_(x).view({b, -1, n, c});

  // The reference adds a bias built apart (zeros + position bias, the
  // masked keys filled with the dtype's lowest value); here it is added to
  // the scores in place, one [B, N, L, L] tensor fewer at the layer's peak
  // (64 MiB for umT5-XXL at 512 tokens in float32). The same values: adding
  // pos_bias to zeros is exact, and a score plus the lowest value rounds to
  // the lowest value (|score| < 1e31), which the fill writes.
  torch::Tensor attn = at::einsum("binc,bjnc->bnij", {q, k});
  if (pos_bias.defined()) attn.add_(pos_bias);
  if (mask.defined()) attn.masked_fill_(mask.view({b, 1, 1, -1}) == 0, LowestOf(x.scalar_type()));
  attn = at::softmax(attn.to(torch::kFloat32), -1).to(attn.scalar_type());
  const torch::Tensor out = at::einsum("bnij,bjnc->binc", {attn, v}).reshape({b, -1, n * c});
  return o_(out);
}

torch::Tensor& T5GeluInPlace(torch::Tensor& x) {
  // The reference: 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * pow(x, 3)))),
  // each op in place where its input is not needed again; additions and
  // products commute exactly, so every intermediate rounds as there.
  const double k = std::sqrt(2.0 / M_PI);
  torch::Tensor t = at::pow(x, 3.0);
  t.mul_(0.044715).add_(x).mul_(k).tanh_().add_(1.0);
  return x.mul_(0.5).mul_(t);
}

T5FeedForwardImpl::T5FeedForwardImpl(int64_t dim, int64_t dim_ffn, const torch::TensorOptions& options) {
  // gate = nn.Sequential(Linear, GELU): the Linear is child "0".
  auto gate = register_module("gate", torch::nn::Sequential());
  gate0_ = T5Linear(dim, dim_ffn, options);
  gate->push_back("0", gate0_);
  fc1_ = register_module("fc1", T5Linear(dim, dim_ffn, options));
  fc2_ = register_module("fc2", T5Linear(dim_ffn, dim, options));
}

torch::Tensor T5FeedForwardImpl::forward(const torch::Tensor& x) {
  // x: [B, L, dim]
  // fc1(x) * gelu(gate(x)), the GELU and the product in place: at
  // umT5-XXL's [512, 10240] the reference's chain of temporaries held up to
  // five 21 MB float32 tensors at once; this holds three.
  torch::Tensor gate = gate0_(x);
  T5GeluInPlace(gate);
  torch::Tensor h = fc1_(x);
  h.mul_(gate);
  gate = torch::Tensor();
  return fc2_(h);
}

T5SelfAttentionImpl::T5SelfAttentionImpl(const T5Config& c, const torch::TensorOptions& options) {
  norm1_ = register_module("norm1", T5LayerNorm(c.dim, c.eps, options));
  attn_ = register_module("attn", T5Attention(c, options));
  norm2_ = register_module("norm2", T5LayerNorm(c.dim, c.eps, options));
  ffn_ = register_module("ffn", T5FeedForward(c.dim, c.dim_ffn, options));
  if (!c.shared_pos) {
    pos_embedding_ = register_module(
        "pos_embedding", T5RelativeEmbedding(c.num_buckets, c.num_heads, /*bidirectional=*/true, c.max_dist, options));
  }
}

torch::Tensor T5SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask,
                                           const torch::Tensor& shared_pos_bias) {
  // x: [B, L, dim]
  const torch::Tensor e = pos_embedding_ ? pos_embedding_(x.size(1), x.size(1)) : shared_pos_bias;
  torch::Tensor h = Fp16Clamp(x + attn_(norm1_(x), mask, e));
  return Fp16Clamp(h + ffn_(norm2_(h)));
}

}  // namespace videogen::models

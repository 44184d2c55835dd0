// bench_dit_block [--tokens N[,N...]] [--dtypes fp32,bf16] [--repeats R]
// One WanAttentionBlock forward at T2V-1.3B width (dim 1536, 12 heads, ffn
// 8960, 512 context tokens) against plain GEMM throughput measured in the same
// run: prints GFLOP/s of each, their ratio, and the attention share of the
// block time.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/types.h>

#include "engine/common/runtime.h"
#include "engine/models/common/attention.h"
#include "engine/models/dit/attention_block.h"

namespace {

using videogen::models::WanConfig;

double BestSeconds(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tokens_list = {"4096", "8192"}, dtypes = {"fp32", "bf16"};
  int repeats = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens_list = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dtypes")) dtypes = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
  }
  if (!videogen::ConfigureTorchRuntime({}).ok()) return 1;
  torch::NoGradGuard no_grad;
  const WanConfig c = WanConfig::T2V_1_3B();
  const int64_t d = c.dim, f = c.ffn_dim, ctx = c.text_len, heads = c.num_heads, hd = c.head_dim();
  std::printf("threads=%d dim=%ld heads=%ld ffn=%ld context=%ld\n", at::get_num_threads(), d, heads, f, ctx);
  for (const std::string& dt : dtypes) {
    const at::ScalarType dtype = dt == "bf16" ? at::kBFloat16 : at::kFloat;
    videogen::models::WanAttentionBlock block(c);
    block->to(dtype);
    for (const std::string& ts : tokens_list) {
      const int64_t L = std::stoll(ts);
      // Plain GEMM at the FFN's shape, in the same dtype.
      const at::Tensor a = at::randn({L, d}).to(dtype), w = at::randn({d, f}).to(dtype);
      const double gemm_s = BestSeconds(repeats, [&] { at::mm(a, w); });
      const double gemm_gflops = 2.0 * L * d * f / gemm_s / 1e9;

      // The block: x [1, L, dim] on a (F, H, W) grid with L tokens.
      const at::Tensor x = at::randn({1, L, d});
      const at::Tensor e0 = at::randn({1, 6, d}) * 0.1;
      const at::Tensor context = at::randn({1, ctx, d});
      const at::Tensor seq_lens = at::tensor({L}, at::kLong);
      const std::vector<videogen::models::RopeTables> rope = {
          videogen::models::MakeRopeTables(hd, {L / 256, 16, 16}, at::kCPU)};
      const double block_s = BestSeconds(repeats, [&] { block->forward(x, e0, seq_lens, rope, context); });
      const double flops = 8.0 * L * d * d + 4.0 * L * L * d + 4.0 * L * d * d + 4.0 * ctx * d * d +
                           4.0 * L * ctx * d + 4.0 * L * d * f;
      const double block_gflops = flops / block_s / 1e9;

      // Self-attention core alone (the part that would materialise L x L scores).
      const at::Tensor q = at::randn({1, L, heads, hd}).to(dtype), k = at::randn({1, L, heads, hd}).to(dtype);
      const double attn_s = BestSeconds(repeats, [&] { videogen::models::Attention(q, k, k); });
      const double attn_gflops = 4.0 * L * L * d / attn_s / 1e9;

      std::printf(
          "%s tokens=%ld gemm=%.1f GFLOP/s block=%.1f GFLOP/s (%.2f s) ratio=%.2f attention=%.1f GFLOP/s "
          "(ratio %.2f) attention_share=%.0f%%\n",
          dt.c_str(), L, gemm_gflops, block_gflops, block_s, block_gflops / gemm_gflops, attn_gflops,
          attn_gflops / gemm_gflops, 100.0 * attn_s / block_s);
      std::fflush(stdout);
    }
  }
  return 0;
}

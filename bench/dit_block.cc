// bench_dit_block [--tokens N[,N...]] [--dtypes fp32,bf16] [--repeats R]
//                 [--parts gemm,block,attention] [--query-block Q] [--key-block K]
//                 [--bf16-scores 0|1]
// One WanAttentionBlock forward at T2V-1.3B width (dim 1536, 12 heads, ffn
// 8960, 512 context tokens) against plain GEMM throughput measured in the same
// run: prints GFLOP/s of each, their ratio, and the attention share of the
// block time.
//
// Robustness under load: the GEMM reference, the block and the attention core
// are timed interleaved (gemm, block, attention, gemm, block, ...) for R
// rounds after one warm-up round, and each figure is the median of its R
// timings, so a burst of load hits all three alike instead of one of them.
// The spread (min..max GFLOP/s) of each is printed. Attention alone runs
// BlockedAttention with --query-block/--key-block (default: Attention()'s) and,
// for bf16, --bf16-scores 1 selects ScorePrecision::kInputDtype (bf16 QK^T)
// instead of the default float32 scores; the block always uses the defaults.
#include <algorithm>
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

#include "bench/common/bench_start.h"
#include "engine/common/runtime.h"
#include "engine/models/common/attention.h"
#include "engine/models/dit/attention_block.h"

namespace {

using videogen::models::WanConfig;

double Seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median, min and max of GFLOP/s over the timings of one part.
struct Rate {
  double median = 0, low = 0, high = 0, seconds = 0;
};
Rate Summarise(std::vector<double> seconds, double flops) {
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const double med = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  return {flops / med / 1e9, flops / seconds.back() / 1e9, flops / seconds.front() / 1e9, med};
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

bool Has(const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

constexpr char kUsage[] =
    "usage: bench_dit_block [--tokens N[,N...]] [--dtypes fp32,bf16] [--repeats R]\n"
    "                       [--parts gemm,block,attention] [--query-block Q] [--key-block K] [--bf16-scores 0|1]\n"
    "One WanAttentionBlock forward at T2V-1.3B width against plain GEMM throughput measured in the same run\n"
    "(medians of R interleaved rounds after one warm-up). Defaults: --tokens 4096,8192 --dtypes fp32,bf16 --repeats 3.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  std::vector<std::string> tokens_list = {"4096", "8192"}, dtypes = {"fp32", "bf16"};
  std::vector<std::string> parts = {"gemm", "block", "attention"};
  int repeats = 3;
  videogen::models::AttentionBlocks blocks;
  videogen::models::AttentionOptions attn_options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens_list = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dtypes")) dtypes = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--parts")) parts = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--query-block")) blocks.query_block = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--key-block")) blocks.key_block = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--bf16-scores") && std::atoi(argv[i + 1]) != 0) {
      attn_options.score_precision = videogen::models::ScorePrecision::kInputDtype;
    }
  }
  if (!videogen::ConfigureTorchRuntime({}).ok()) return 1;
  torch::NoGradGuard no_grad;
  const WanConfig c = WanConfig::T2V_1_3B();
  const int64_t d = c.dim, f = c.ffn_dim, ctx = c.text_len, heads = c.num_heads, hd = c.head_dim();
  std::printf(
      "threads=%d dim=%ld heads=%ld ffn=%ld context=%ld; medians of %d interleaved rounds after 1 warm-up "
      "(min..max in brackets); attention blocks q=%ld k=%ld, bf16 scores in %s\n",
      at::get_num_threads(), d, heads, f, ctx, repeats, blocks.query_block, blocks.key_block,
      attn_options.score_precision == videogen::models::ScorePrecision::kInputDtype ? "bf16" : "fp32");
  for (const std::string& dt : dtypes) {
    const at::ScalarType dtype = dt == "bf16" ? at::kBFloat16 : at::kFloat;
    videogen::models::WanAttentionBlock block(c);
    block->to(dtype);
    for (const std::string& ts : tokens_list) {
      const int64_t L = std::stoll(ts);
      // Plain GEMM at the FFN's shape, in the same dtype.
      const at::Tensor a = at::randn({L, d}).to(dtype), w = at::randn({d, f}).to(dtype);
      const double gemm_flops = 2.0 * L * d * f;
      // The block: x [1, L, dim] on a (F, H, W) grid with L tokens.
      const at::Tensor x = at::randn({1, L, d});
      const videogen::models::TimeRows e0{at::randn({1, 6, d}) * 0.1, {}};
      const at::Tensor context = at::randn({1, ctx, d});
      const at::Tensor seq_lens = at::tensor({L}, at::kLong);
      const std::vector<videogen::models::RopeTables> rope = {
          videogen::models::MakeRopeTables(hd, {L / 256, 16, 16}, at::kCPU)};
      const double block_flops = 8.0 * L * d * d + 4.0 * L * L * d + 4.0 * L * d * d + 4.0 * ctx * d * d +
                                 4.0 * L * ctx * d + 4.0 * L * d * f;
      // Self-attention core alone (the part that would materialise L x L scores).
      const at::Tensor q = at::randn({1, L, heads, hd}).to(dtype), k = at::randn({1, L, heads, hd}).to(dtype);
      const double attn_flops = 4.0 * L * L * d;

      std::vector<double> gemm_s, block_s, attn_s;
      for (int r = 0; r <= repeats; ++r) {  // round 0 is the warm-up
        const double g = Has(parts, "gemm") ? Seconds([&] { at::mm(a, w); }) : 0;
        const double b = Has(parts, "block") ? Seconds([&] { block->forward(x, e0, seq_lens, rope, context); }) : 0;
        const double t =
            Has(parts, "attention") ? Seconds([&] { videogen::models::BlockedAttention(q, k, k, attn_options, blocks); }) : 0;
        if (r == 0) continue;
        gemm_s.push_back(g), block_s.push_back(b), attn_s.push_back(t);
      }
      const Rate gemm = Summarise(gemm_s, gemm_flops), blk = Summarise(block_s, block_flops),
                 attn = Summarise(attn_s, attn_flops);
      std::printf(
          "%s tokens=%ld gemm=%.1f [%.1f..%.1f] GFLOP/s block=%.1f [%.1f..%.1f] GFLOP/s (%.2f s) ratio=%.2f "
          "attention=%.1f [%.1f..%.1f] GFLOP/s (ratio %.2f) attention_share=%.0f%%\n",
          dt.c_str(), L, gemm.median, gemm.low, gemm.high, blk.median, blk.low, blk.high, blk.seconds,
          blk.median / gemm.median, attn.median, attn.low, attn.high, attn.median / gemm.median,
          100.0 * attn.seconds / blk.seconds);
      std::fflush(stdout);
    }
  }
  return 0;
}

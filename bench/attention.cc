// bench_attention [--tokens N[,N...]] [--dtypes fp32,bf16] [--repeats R]
// The self-attention core of one WanAttentionBlock at T2V-1.3B geometry
// (12 heads x head_dim 128, q = k = v length L, no mask), as bench_dit_block
// --parts attention times it: our BlockedAttention (default blocks) beside
// LibTorch's fused scaled_dot_product_attention (LibTorch >= 2.0 only),
// interleaved in the same rounds (blocked, sdpa, blocked, ...) for R rounds
// after one warm-up, each figure the median of its R timings (min..max in
// brackets). Prints GFLOP/s (4 L^2 dim FLOPs), the sdpa/blocked ratio and the
// kernel Attention() uses for that dtype on this LibTorch
// (ChosenAttentionKernel, decided from these figures).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/version.h>

#include "bench/common/bench_start.h"
#include "bench/common/op_flops.h"
#include "engine/common/runtime.h"
#include "engine/models/common/attention.h"
#include "engine/models/dit/config.h"

namespace {

using videogen::models::AttentionKernel;

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

}  // namespace

constexpr char kUsage[] =
    "usage: bench_attention [--tokens N[,N...]] [--dtypes fp32,bf16] [--repeats R]\n"
    "Self-attention at T2V-1.3B geometry (12 heads x 128): BlockedAttention beside LibTorch's fused\n"
    "scaled_dot_product_attention (LibTorch >= 2.0), interleaved; medians of R rounds after one warm-up.\n"
    "Defaults: --tokens 1024,2048,4096,8192 --dtypes fp32,bf16 --repeats 3.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  std::vector<std::string> tokens_list = {"1024", "2048", "4096", "8192"}, dtypes = {"fp32", "bf16"};
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens_list = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dtypes")) dtypes = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
  }
  if (!videogen::ConfigureTorchRuntime({}).ok()) return 1;
  torch::NoGradGuard no_grad;
  const videogen::models::WanConfig c = videogen::models::WanConfig::T2V_1_3B();
  const int64_t heads = c.num_heads, hd = c.head_dim();
  const bool sdpa = videogen::models::HasFusedSdpa();
  std::printf("LibTorch %s threads=%d heads=%ld head_dim=%ld; medians of %d interleaved rounds after 1 warm-up%s\n",
              TORCH_VERSION, at::get_num_threads(), heads, hd, repeats,
              sdpa ? "" : "; no scaled_dot_product_attention in this LibTorch");
  std::printf("%-5s %6s  %-28s %-28s %7s  %s\n", "dtype", "tokens", "blocked GFLOP/s (s)", "sdpa GFLOP/s (s)",
              "ratio", "Attention() uses");
  for (const std::string& dt : dtypes) {
    if (dt != "fp32" && dt != "bf16") {
      std::fprintf(stderr, "bench_attention: --dtypes takes fp32 and bf16, got '%s'\n", dt.c_str());
      return 2;
    }
    const at::ScalarType dtype = dt == "bf16" ? at::kBFloat16 : at::kFloat;
    const char* chosen =
        videogen::models::ChosenAttentionKernel(c10::DeviceType::CPU, dtype) == AttentionKernel::kFusedSdpa
            ? "sdpa"
            : "blocked";
    for (const std::string& ts : tokens_list) {
      const int64_t L = std::stoll(ts);
      const at::Tensor q = at::randn({1, L, heads, hd}).to(dtype), k = at::randn({1, L, heads, hd}).to(dtype);
      const double flops = 4.0 * L * L * heads * hd;
      std::vector<double> blocked_s, sdpa_s;
      for (int r = 0; r <= repeats; ++r) {  // round 0 is the warm-up
        const double b = videogen::bench::Seconds([&] { videogen::models::BlockedAttention(q, k, k, {}); });
        const double s =
            sdpa ? videogen::bench::Seconds([&] { videogen::models::FusedSdpaAttention(q, k, k, {}); }) : 0;
        if (r == 0) continue;
        blocked_s.push_back(b), sdpa_s.push_back(s);
      }
      const Rate blocked = Summarise(blocked_s, flops);
      char bcol[64], scol[64] = "-", ratio[16] = "-";
      std::snprintf(bcol, sizeof bcol, "%.1f [%.1f..%.1f] (%.3f)", blocked.median, blocked.low, blocked.high,
                    blocked.seconds);
      if (sdpa) {
        const Rate fused = Summarise(sdpa_s, flops);
        std::snprintf(scol, sizeof scol, "%.1f [%.1f..%.1f] (%.3f)", fused.median, fused.low, fused.high,
                      fused.seconds);
        std::snprintf(ratio, sizeof ratio, "%.2f", fused.median / blocked.median);
      }
      std::printf("%-5s %6ld  %-28s %-28s %7s  %s\n", dt.c_str(), L, bcol, scol, ratio, chosen);
      std::fflush(stdout);
    }
  }
  return 0;
}

// bench_dit_block [--tokens N[,N...]] [--dtypes fp32,bf16,fp8] [--repeats R]
//                 [--parts gemm,block,attention,fp8_gemm] [--query-block Q] [--key-block K]
//                 [--bf16-scores 0|1] [--bf16-float-gemm 0|1] [--fused-softmax 0|1] [--preset 1.3b|14b|tiny] [--device cpu|cuda[:N]]
//                 [--json FILE]
// One WanAttentionBlock forward at T2V-1.3B width (dim 1536, 12 heads, ffn
// 8960, 512 context tokens; --preset 14b: dim 5120, 40 heads, ffn 13824;
// tiny: dim 256, 2 heads, ffn 512, for dry runs) against plain GEMM
// throughput measured in the same run: prints GFLOP/s of each, their ratio,
// and the attention share of the block time. Dtype fp8 is the block with its
// linear weights held in fp8 and up-cast to bf16 per call (QuantLinear, as
// the engine runs fp8 checkpoints), against the bf16 GEMM; part fp8_gemm is
// the FFN-shaped GEMM as an fp8 scaled GEMM (at::_scaled_mm, LibTorch >= 2.4
// on GPUs that have it; reported as unsupported elsewhere). On CUDA every
// timing synchronises the device first and last; the block's peak device
// memory is reported. --json appends one JSON object per (dtype, tokens).
//
// Robustness under load: the GEMM reference, the block and the attention core
// are timed interleaved (gemm, block, attention, gemm, block, ...) for R
// rounds after one warm-up round, and each figure is the median of its R
// timings, so a burst of load hits all three alike instead of one of them.
// The spread (min..max GFLOP/s) of each is printed. Attention alone runs
// BlockedAttention with --query-block/--key-block (default: Attention()'s) and,
// for bf16, --bf16-scores 1 selects ScorePrecision::kInputDtype (bf16 QK^T)
// instead of the default float32 scores, and --fused-softmax 0 the LibTorch-op
// softmax step instead of OnlineSoftmaxBlockBf16 / OnlineSoftmaxBlockInPlace;
// the block always uses the defaults.
// --bf16-float-gemm 0 sets VIDEOGEN_BF16_FLOAT_GEMM=0 (bf16 attention converts
// q and k to float32 for QK^T instead of oneDNN's bf16 x bf16 -> float32 GEMM),
// for the block and attention alike; --float-gemm 0 sets VIDEOGEN_FLOAT_GEMM=0
// (float32 attention tiles through LibTorch's addmm instead of oneDNN's sgemm).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/types.h>

#include "bench/common/bench_start.h"
#include "bench/common/device.h"
#include "bench/quant/scaled_gemm.h"
#include "engine/common/runtime.h"
#include "engine/models/common/attention.h"
#include "engine/models/common/onednn_gemm.h"
#include "engine/models/dit/attention_block.h"
#include "engine/quant/fp8_tensor.h"
#include "engine/quant/quant_linear.h"

namespace {

using videogen::models::WanConfig;

torch::Device g_device = torch::kCPU;

// Wall time of fn(), the device's queue drained before and after.
double Seconds(const std::function<void()>& fn) {
  videogen::bench::SyncDevice(g_device);
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  videogen::bench::SyncDevice(g_device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

WanConfig Preset(const std::string& name) {
  if (name == "14b") return WanConfig::T2V_14B();
  WanConfig c = WanConfig::T2V_1_3B();
  if (name == "tiny") {
    c.dim = 256;
    c.num_heads = 2;
    c.ffn_dim = 512;
  }
  return c;
}

// The latent grid (F, H, W) of L tokens: 832x480 geometry (30 x 52 tokens per
// frame) when L is a multiple of 1560, else 16 x 16 per frame, else one row.
std::array<int64_t, 3> Grid(int64_t L) {
  if (L % 1560 == 0) return {L / 1560, 30, 52};
  if (L % 256 == 0) return {L / 256, 16, 16};
  return {1, 1, L};
}

// Every QuantLinear of `block` (in bf16 on its device) takes its weight in fp8
// (per-tensor scale), computing in bf16.
bool HoldWeightsInFp8(torch::nn::Module& block) {
  for (const auto& m : block.modules(/*include_self=*/false)) {
    auto* linear = m->as<videogen::quant::QuantLinearImpl>();
    if (linear == nullptr) continue;
    auto q = videogen::quant::QuantizeWeight(linear->weight.to(torch::kCPU, torch::kFloat32),
                                             videogen::quant::Fp8Scaling::kPerTensor, g_device);
    if (!q.ok() || !linear->SetFp8Weight(*std::move(q), torch::kBFloat16).ok()) return false;
  }
  return true;
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
    "usage: bench_dit_block [--tokens N[,N...]] [--dtypes fp32,bf16,fp8] [--repeats R]\n"
    "                       [--parts gemm,block,attention,fp8_gemm] [--query-block Q] [--key-block K] [--bf16-scores 0|1]\n"
    "                       [--fused-softmax 0|1]\n"
    "                       [--preset 1.3b|14b|tiny] [--device cpu|cuda[:N]] [--json FILE] [--profile PREFIX]\n"
    "                       [--heap-reuse 0|1] [--bf16-float-gemm 0|1] [--float-gemm 0|1]\n"
    "One WanAttentionBlock forward at T2V-1.3B width (or --preset) against plain GEMM throughput measured in the\n"
    "same run (medians of R interleaved rounds after one warm-up). fp8: linear weights held in fp8, up-cast to\n"
    "bf16 per call; fp8_gemm: the FFN GEMM as an fp8 scaled GEMM where LibTorch and the device have it.\n"
    "--profile: one more block forward per (dtype, tokens) with every op recorded, PREFIX.DTYPE.TOKENS.json\n"
    "(chrome://tracing). --heap-reuse 0: glibc's default allocation policy instead of heap reuse (engine/common/heap_reuse.h).\n"
    "--bf16-float-gemm 0: bf16 attention without oneDNN's bf16 x bf16 -> fp32 GEMM (engine/models/common/onednn_gemm.h);\n"
    "--float-gemm 0: float32 attention tiles through LibTorch's addmm instead of oneDNN's sgemm (the same header).\n"
    "Defaults: --tokens 4096,8192 --dtypes fp32,bf16 --repeats 3 --preset 1.3b --device cpu.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  std::vector<std::string> tokens_list = {"4096", "8192"}, dtypes = {"fp32", "bf16"};
  std::vector<std::string> parts = {"gemm", "block", "attention"};
  int repeats = 3;
  bool heap_reuse = true;
  std::string preset = "1.3b", json_path, profile_path;
  videogen::models::AttentionBlocks blocks;
  videogen::models::AttentionOptions attn_options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens_list = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dtypes")) dtypes = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--parts")) parts = Split(argv[i + 1]);
    if (!std::strcmp(argv[i], "--query-block")) blocks.query_block = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--key-block")) blocks.key_block = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--fused-softmax")) blocks.fused_softmax = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--preset")) preset = argv[i + 1];
    if (!std::strcmp(argv[i], "--json")) json_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--profile")) profile_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--heap-reuse")) heap_reuse = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--bf16-float-gemm") && std::atoi(argv[i + 1]) == 0) {
      setenv("VIDEOGEN_BF16_FLOAT_GEMM", "0", /*overwrite=*/1);
    }
    if (!std::strcmp(argv[i], "--float-gemm") && std::atoi(argv[i + 1]) == 0) {
      setenv("VIDEOGEN_FLOAT_GEMM", "0", /*overwrite=*/1);
    }
    if (!std::strcmp(argv[i], "--device")) {
      auto device = videogen::bench::ParseDevice(argv[i + 1]);
      if (!device.ok()) {
        std::fprintf(stderr, "bench_dit_block: %s\n", device.status().ToString().c_str());
        return 2;
      }
      g_device = *device;
    }
    if (!std::strcmp(argv[i], "--bf16-scores") && std::atoi(argv[i + 1]) != 0) {
      attn_options.score_precision = videogen::models::ScorePrecision::kInputDtype;
    }
  }
  if (!videogen::ConfigureTorchRuntime({.heap_reuse = heap_reuse}).ok()) return 1;
  torch::NoGradGuard no_grad;
  if (preset != "1.3b" && preset != "14b" && preset != "tiny") {
    std::fprintf(stderr, "bench_dit_block: --preset must be 1.3b, 14b or tiny\n");
    return 2;
  }
  const WanConfig c = Preset(preset);
  const torch::Device dev = g_device;
  const auto on = [&](at::ScalarType dtype) { return at::TensorOptions().dtype(dtype).device(dev); };
  const int64_t d = c.dim, f = c.ffn_dim, ctx = c.text_len, heads = c.num_heads, hd = c.head_dim();
  std::printf(
      "device=%s threads=%d dim=%ld heads=%ld ffn=%ld context=%ld; medians of %d interleaved rounds after 1 warm-up "
      "(min..max in brackets); attention blocks q=%ld k=%ld, bf16 scores in %s, fused softmax %s\n",
      videogen::bench::DeviceName(dev).c_str(), at::get_num_threads(), d, heads, f, ctx, repeats, blocks.query_block, blocks.key_block,
      attn_options.score_precision == videogen::models::ScorePrecision::kInputDtype ? "bf16" : "fp32",
      blocks.fused_softmax ? "on" : "off");
  std::printf("heap reuse: %s; bf16 x bf16 -> fp32 GEMM: %s\n",
              videogen::HeapReuseInForce() ? "on" : "off (glibc's default)",
              videogen::models::Bf16FloatGemmAvailable() ? "oneDNN" : "off or absent");
  std::ofstream json_out;
  if (!json_path.empty()) json_out.open(json_path, std::ios::app);
  for (const std::string& dt : dtypes) {
    if (dt != "fp32" && dt != "bf16" && dt != "fp8") {
      std::fprintf(stderr, "bench_dit_block: --dtypes takes fp32, bf16 and fp8, got '%s'\n", dt.c_str());
      return 2;
    }
    // fp8: bf16 activations, fp8 weights up-cast per call; its GEMM reference is bf16.
    const bool fp8 = dt == "fp8";
    const at::ScalarType dtype = dt == "fp32" ? at::kFloat : at::kBFloat16;
    videogen::models::WanAttentionBlock block(c);
    block->to(dev, dtype);
    if (fp8 && !HoldWeightsInFp8(*block)) {
      std::fprintf(stderr, "bench_dit_block: cannot hold the block's weights in fp8\n");
      return 1;
    }
    for (const std::string& ts : tokens_list) {
      const int64_t L = std::stoll(ts);
      // Plain GEMM at the FFN's shape, in the same dtype.
      const at::Tensor a = at::randn({L, d}, on(dtype)), w = at::randn({d, f}, on(dtype));
      at::Tensor gemm_out = at::mm(a, w);
      const double gemm_flops = 2.0 * L * d * f;
      // The same GEMM in fp8 (scaled), where it exists.
      absl::StatusOr<videogen::bench::ScaledGemmOperands> scaled =
          absl::UnimplementedError("not measured (--parts)");
      if (Has(parts, "fp8_gemm")) scaled = videogen::bench::PrepareScaledGemm(a, w.t());
      // The block: x [1, L, dim] on a (F, H, W) grid with L tokens.
      const at::Tensor x = at::randn({1, L, d}, on(at::kFloat));
      const videogen::models::TimeRows e0{at::randn({1, 6, d}, on(at::kFloat)) * 0.1, {}};
      const at::Tensor context = at::randn({1, ctx, d}, on(at::kFloat));
      const at::Tensor seq_lens = at::tensor({L}, at::kLong).to(dev);
      const std::vector<videogen::models::RopeTables> rope = {
          videogen::models::MakeRopeTables(hd, Grid(L), dev)};
      const double block_flops = 8.0 * L * d * d + 4.0 * L * L * d + 4.0 * L * d * d + 4.0 * ctx * d * d +
                                 4.0 * L * ctx * d + 4.0 * L * d * f;
      // Self-attention core alone (the part that would materialise L x L scores).
      const at::Tensor q = at::randn({1, L, heads, hd}, on(dtype)), k = at::randn({1, L, heads, hd}, on(dtype));
      const double attn_flops = 4.0 * L * L * d;

      std::vector<double> gemm_s, block_s, attn_s, fp8_gemm_s;
      videogen::bench::ResetPeakMemory(dev);
      const uint64_t base_bytes = videogen::bench::AllocatedBytes(dev);
      std::string fp8_gemm_error = scaled.ok() ? "" : std::string(scaled.status().message());
      for (int r = 0; r <= repeats; ++r) {  // round 0 is the warm-up
        // Into one output tensor: the kernel's rate, whatever the allocator does.
        const double g = Has(parts, "gemm") ? Seconds([&] { at::mm_out(gemm_out, a, w); }) : 0;
        const double b = Has(parts, "block") ? Seconds([&] { block->forward(x, e0, seq_lens, rope, context); }) : 0;
        // Attention() on CUDA (the kernel the engine chooses there); BlockedAttention on the CPU.
        const double t = Has(parts, "attention") ? Seconds([&] {
          if (dev.is_cuda()) {
            videogen::models::Attention(q, k, k, attn_options);
          } else {
            videogen::models::BlockedAttention(q, k, k, attn_options, blocks);
          }
        })
                                                 : 0;
        double s8 = 0;
        if (scaled.ok() && fp8_gemm_error.empty()) {
          absl::Status st;
          s8 = Seconds([&] { st = videogen::bench::RunScaledGemm(*scaled).status(); });
          if (!st.ok()) fp8_gemm_error = std::string(st.message());
        }
        if (r == 0) continue;
        gemm_s.push_back(g), block_s.push_back(b), attn_s.push_back(t), fp8_gemm_s.push_back(s8);
      }
      const uint64_t peak_bytes = videogen::bench::PeakAllocatedBytes(dev) - base_bytes;
      if (!profile_path.empty()) {  // one more block forward, every op recorded (chrome://tracing format)
        const std::string path = profile_path + "." + dt + "." + ts + ".json";
        torch::autograd::profiler::RecordProfile guard(path);
        block->forward(x, e0, seq_lens, rope, context);
      }
      const Rate gemm = Summarise(gemm_s, gemm_flops), blk = Summarise(block_s, block_flops),
                 attn = Summarise(attn_s, attn_flops);
      const Rate fp8_gemm = fp8_gemm_error.empty() ? Summarise(fp8_gemm_s, gemm_flops) : Rate{};
      // Only the parts measured; ratios only where their GEMM reference ran.
      const bool has_gemm = Has(parts, "gemm"), has_block = Has(parts, "block"), has_attn = Has(parts, "attention");
      std::printf("%s tokens=%ld", dt.c_str(), L);
      if (has_gemm) std::printf(" gemm=%.1f [%.1f..%.1f] GFLOP/s", gemm.median, gemm.low, gemm.high);
      if (has_block) {
        std::printf(" block=%.1f [%.1f..%.1f] GFLOP/s (%.2f s)", blk.median, blk.low, blk.high, blk.seconds);
        if (has_gemm) std::printf(" ratio=%.2f", blk.median / gemm.median);
      }
      if (has_attn) {
        std::printf(" attention=%.1f [%.1f..%.1f] GFLOP/s", attn.median, attn.low, attn.high);
        if (has_gemm) std::printf(" (ratio %.2f)", attn.median / gemm.median);
        if (has_block) std::printf(" attention_share=%.0f%%", 100.0 * attn.seconds / blk.seconds);
      }
      std::printf("\n");
      if (Has(parts, "fp8_gemm")) {
        if (fp8_gemm_error.empty()) {
          std::printf("%s tokens=%ld fp8_scaled_gemm=%.1f [%.1f..%.1f] GFLOP/s (ratio to this run's %s gemm %.2f)\n",
                      dt.c_str(), L, fp8_gemm.median, fp8_gemm.low, fp8_gemm.high, fp8 ? "bf16" : dt.c_str(),
                      fp8_gemm.median / gemm.median);
        } else {
          std::printf("%s tokens=%ld fp8_scaled_gemm unsupported: %s\n", dt.c_str(), L, fp8_gemm_error.c_str());
        }
      }
      if (dev.is_cuda()) std::printf("%s tokens=%ld peak_device_bytes=%lu (above the weights and inputs)\n",
                                     dt.c_str(), L, static_cast<unsigned long>(peak_bytes));
      std::fflush(stdout);
      if (json_out.is_open()) {
        nlohmann::json j = {{"bench", "dit_block"}, {"preset", preset}, {"device", videogen::bench::DeviceName(dev)},
                            {"dtype", dt}, {"tokens", L}, {"dim", d}, {"heads", heads}, {"ffn", f},
                            {"repeats", repeats}, {"gemm_gflops", gemm.median},
                            {"gemm_dtype", fp8 ? "bf16" : dt}, {"block_gflops", blk.median},
                            {"block_seconds", blk.seconds}, {"attention_gflops", attn.median},
                            {"block_to_gemm", blk.median / gemm.median}, {"peak_device_bytes", peak_bytes}};
        if (Has(parts, "fp8_gemm")) {
          if (fp8_gemm_error.empty()) {
            j["fp8_scaled_gemm_gflops"] = fp8_gemm.median;
          } else {
            j["fp8_scaled_gemm_error"] = fp8_gemm_error;
          }
        }
        json_out << j.dump() << "\n";
        json_out.flush();
      }
    }
  }
  return 0;
}

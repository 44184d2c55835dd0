// bench_fp8_matmul [--m 64,4096] [--k 1536] [--n 1536] [--repeats R] [--threads T]
// One linear layer y = x W^T, W [N, K], on CPU: the fp8 path (LUT up-cast of
// the e4m3 weight + matmul, as QuantLinear runs it) against the fp32 and bf16
// matmuls alone, and the up-cast alone; best of R, all from one run. Then
// QuantLinear itself (fp8 weight, bf16 compute) per M on a fresh thread: its
// first call (the thread's up-cast buffer is allocated and faulted in) and its
// steady state (best of R, the buffer reused).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "bench/common/bench_start.h"
#include "engine/common/runtime.h"
#include "engine/quant/fp8_tensor.h"
#include "engine/quant/quant_linear.h"

namespace {

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

std::vector<int64_t> SplitInts(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

constexpr char kUsage[] =
    "usage: bench_fp8_matmul [--m 64,4096] [--k 1536] [--n 1536] [--repeats R] [--threads T]\n"
    "One linear layer y = x W^T on CPU: the fp8 path (LUT up-cast + matmul) against fp32 and bf16 matmuls\n"
    "and the up-cast alone; best of R, all from one run.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  using namespace videogen;
  std::vector<int64_t> ms = {64, 4096};
  int64_t k = 1536, n = 1536;
  int repeats = 5;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--m")) ms = SplitInts(argv[i + 1]);
    if (!std::strcmp(argv[i], "--k")) k = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--n")) n = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  if (!ConfigureTorchRuntime({.threads = threads}).ok()) return 1;
  at::NoGradGuard no_grad;
  std::printf("threads=%d K=%ld N=%ld repeats=%d\n", at::get_num_threads(), k, n, repeats);
  const at::Tensor w = at::randn({n, k}) * 0.02;
  auto q = quant::QuantizeWeight(w, quant::Fp8Scaling::kPerTensor);
  if (!q.ok()) return 1;
  const at::Tensor w_bf16 = w.to(at::kBFloat16);
  const double decode_f32 = BestSeconds(repeats, [&] { quant::DequantizeWeight(*q, at::kFloat); });
  const double decode_bf16 = BestSeconds(repeats, [&] { quant::DequantizeWeight(*q, at::kBFloat16); });
  std::printf("up-cast alone: fp8->fp32 %.3f ms (%.2f GB/s written), fp8->bf16 %.3f ms\n", decode_f32 * 1e3,
              4.0 * n * k / decode_f32 / 1e9, decode_bf16 * 1e3);
  std::printf("%6s %12s %12s %12s %12s %14s %14s\n", "M", "fp32_mm_ms", "fp8_f32_ms", "bf16_mm_ms", "fp8_bf16_ms",
              "fp8/fp32", "fp8bf16/bf16");
  for (const int64_t m : ms) {
    const at::Tensor x = at::randn({m, k});
    const at::Tensor x_bf16 = x.to(at::kBFloat16);
    const double mm32 = BestSeconds(repeats, [&] { at::linear(x, w); });
    const double fp8_32 = BestSeconds(repeats, [&] { at::linear(x, quant::DequantizeWeight(*q, at::kFloat)); });
    const double mm16 = BestSeconds(std::max(1, repeats / 2), [&] { at::linear(x_bf16, w_bf16); });
    const double fp8_16 =
        BestSeconds(std::max(1, repeats / 2), [&] { at::linear(x_bf16, quant::DequantizeWeight(*q, at::kBFloat16)); });
    std::printf("%6ld %12.3f %12.3f %12.3f %12.3f %14.3f %14.3f\n", m, mm32 * 1e3, fp8_32 * 1e3, mm16 * 1e3,
                fp8_16 * 1e3, fp8_32 / mm32, fp8_16 / mm16);
    std::printf("       fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s\n", 2.0 * m * k * n / mm32 / 1e9, 2.0 * m * k * n / mm16 / 1e9);
  }
  quant::QuantLinear layer(quant::QuantLinearOptions{.in_features = k, .out_features = n, .bias = false});
  if (!layer->SetFp8Weight(*q, at::kBFloat16).ok()) return 1;
  for (const int64_t m : ms) {
    const at::Tensor x_bf16 = at::randn({m, k}).to(at::kBFloat16);
    double first = 0, steady = 0;
    std::thread([&] {  // a fresh thread: a fresh up-cast buffer
      at::NoGradGuard no_grad_here;
      const auto t0 = std::chrono::steady_clock::now();
      layer->forward(x_bf16);
      first = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      steady = BestSeconds(repeats, [&] { layer->forward(x_bf16); });
    }).join();
    std::printf("QuantLinear fp8->bf16 M=%ld: first call %.3f ms, steady %.3f ms (first/steady %.2f)\n", m,
                first * 1e3, steady * 1e3, first / steady);
  }
  return 0;
}

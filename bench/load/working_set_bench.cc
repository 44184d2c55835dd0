// bench_working_set [--tokens 4096]   (one token count per process gives clean figures:
//                                      freed heap memory stays in RSS between runs)
// Checks the planner's DiT working-set model against a measurement: one
// WanAttentionBlock forward at T2V-1.3B width in float32 on the CPU, peak RSS
// growth during the forward (VmHWM reset through /proc/self/clear_refs)
// against memory::DitWorkingSetBytes for the same token count.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "bench/common/bench_start.h"
#include "engine/common/host_memory.h"
#include "engine/common/runtime.h"
#include "engine/memory/planner.h"
#include "engine/models/dit/attention_block.h"

namespace {

bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f.flush());
}

}  // namespace

constexpr char kUsage[] =
    "usage: bench_working_set [--tokens 1024,2048,4096]\n"
    "One WanAttentionBlock forward (T2V-1.3B width, fp32, CPU): peak RSS growth during the forward against\n"
    "memory::DitWorkingSetBytes for the same token count. One token count per process gives clean figures.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  using namespace videogen;
  std::vector<int64_t> tokens = {1024, 2048, 4096};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) {
      tokens.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string t; std::getline(ss, t, ',');) tokens.push_back(std::stoll(t));
    }
  }
  if (!ConfigureTorchRuntime({}).ok()) return 1;
  at::NoGradGuard no_grad;
  const models::WanConfig c = models::WanConfig::T2V_1_3B();
  models::WanAttentionBlock block(c);
  memory::DitGeometry g{c.dim, c.ffn_dim, 1, c.num_heads, c.in_dim, c.out_dim, false};
  {  // Library warm-up (BLAS buffers, thread pool) on a small input.
    const at::Tensor x = at::randn({1, 256, c.dim});
    block->forward(x, models::TimeRows{at::zeros({1, 6, c.dim}), {}}, at::full({1}, 256, at::kLong),
                   {models::MakeRopeTables(c.head_dim(), {1, 16, 16}, at::kCPU)}, at::randn({1, c.text_len, c.dim}));
  }
  std::printf("T2V-1.3B block, fp32, CPU, threads=%d\n", at::get_num_threads());
  std::printf("%8s %14s %14s %8s\n", "tokens", "measured_MiB", "predicted_MiB", "ratio");
  for (const int64_t L : tokens) {
    // Grid (F, H, W) with F*H*W = L for the rope tables.
    const std::array<int64_t, 3> grid = {L / 256, 16, 16};
    const at::Tensor x = at::randn({1, L, c.dim});
    const models::TimeRows e0{at::randn({1, 6, c.dim}) * 0.1, {}};
    const at::Tensor context = at::randn({1, c.text_len, c.dim});
    const at::Tensor seq_lens = at::full({1}, L, at::kLong);
    const std::vector<models::RopeTables> rope = {models::MakeRopeTables(c.head_dim(), grid, at::kCPU)};
    const uint64_t before = ProcessRssBytes();
    if (!ResetPeakRss()) {
      std::fprintf(stderr, "cannot reset VmHWM\n");
      return 1;
    }
    const at::Tensor y = block->forward(x, e0, seq_lens, rope, context);
    const double measured = static_cast<double>(ProcessPeakRssBytes() - before) / (1 << 20);
    memory::RequestShape r;
    r.frames = 1;
    r.height = 16;
    r.width = 16 * L;  // tokens() = 1 * 1 * L
    r.cfg = false;
    const double predicted = static_cast<double>(memory::DitWorkingSetBytes(g, r, 4, false)) / (1 << 20);
    std::printf("%8ld %14.1f %14.1f %8.2f\n", L, measured, predicted, measured / predicted);
  }
  return 0;
}

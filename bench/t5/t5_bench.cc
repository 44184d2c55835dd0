// bench_t5: umT5-XXL encoder layers at 512 tokens, random weights. See --help.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include "bench/common/bench_start.h"
#include "bench/common/op_flops.h"
#include "engine/common/host_memory.h"
#include "engine/common/runtime.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/t5/t5_layers.h"

namespace {

constexpr char kUsage[] =
    "usage: bench_t5 [--tokens 512] [--dtypes fp32,bf16] [--layers 24] [--repeats R] [--profile PREFIX]\n"
    "One umT5-XXL encoder layer (T5SelfAttention: dim 4096, 64 heads, ffn 10240, own relative\n"
    "position bias) with random weights on the CPU, and the whole encoder's 24 layers run as 24\n"
    "calls of that one layer (same FLOPs; one layer's weights resident: the real fp32 encoder\n"
    "needs ~23 GB). Prints first-call and steady-state (median of R, default 3) seconds,\n"
    "GFLOP/s from the layer's matmul and attention FLOPs, and peak RSS (VmHWM).\n"
    "--profile: one more layer call per dtype, after its figures, with every op recorded,\n"
    "PREFIX.DTYPE.json (chrome://tracing).\n";

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  int64_t tokens = 512;
  int layers = 24, repeats = 3;
  std::vector<std::string> dtypes = {"fp32", "bf16"};
  std::string profile_prefix;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--tokens") tokens = std::atoll(v.c_str());
    else if (a == "--dtypes") dtypes = Split(v);
    else if (a == "--layers") layers = std::max(1, std::atoi(v.c_str()));
    else if (a == "--repeats") repeats = std::max(1, std::atoi(v.c_str()));
    else if (a == "--profile") profile_prefix = v;
    else {
      std::fprintf(stderr, "bench_t5: bad argument %s %s\n%s", a.c_str(), v.c_str(), kUsage);
      return 2;
    }
  }
  if (!videogen::ConfigureTorchRuntime({}).ok()) return 1;
  torch::NoGradGuard no_grad;
  const videogen::models::T5Config c = videogen::models::T5Config::UmT5Xxl();
  const double L = tokens;
  const double layer_flops =
      2.0 * L * (4.0 * c.dim * c.dim_attn + 3.0 * c.dim * c.dim_ffn) + 4.0 * L * L * c.dim_attn;
  std::printf("threads=%d tokens=%ld; umT5-XXL layer %.1f GFLOP; encoder = %d layers\n", at::get_num_threads(), tokens,
              layer_flops / 1e9, layers);
  for (const std::string& dt : dtypes) {
    const at::ScalarType dtype = dt == "bf16" ? at::kBFloat16 : at::kFloat;
    videogen::models::T5SelfAttention layer(c, torch::TensorOptions().dtype(dtype));
    for (auto& p : layer->parameters()) p.normal_(0, 0.02);
    const at::Tensor x = at::randn({1, tokens, c.dim}).to(dtype);
    const at::Tensor mask = at::ones({1, tokens}, at::kLong);
    auto one = [&] { return layer->forward(x, mask, at::Tensor()); };
    const double first = videogen::bench::Seconds([&] { one(); });
    const double steady = videogen::bench::MedianSeconds([&] { one(); }, repeats);
    const double encoder = videogen::bench::Seconds([&] {
      at::Tensor h = x;
      for (int l = 0; l < layers; ++l) h = layer->forward(h, mask, at::Tensor());
    });
    std::printf("%s layer first=%.2f s (%.1f GFLOP/s) steady=%.2f s (%.1f GFLOP/s); encoder %d layers %.1f s "
                "(%.1f GFLOP/s); peak_rss=%.2f GB\n",
                dt.c_str(), first, layer_flops / first / 1e9, steady, layer_flops / steady / 1e9, layers, encoder,
                layers * layer_flops / encoder / 1e9, videogen::ProcessPeakRssBytes() / 1e9);
    std::fflush(stdout);
    if (!profile_prefix.empty()) {
      torch::autograd::profiler::RecordProfile guard(profile_prefix + "." + dt + ".json");
      one();
    }
  }
  return 0;
}

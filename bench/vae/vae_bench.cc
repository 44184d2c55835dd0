// bench_vae: Wan VAE encode and decode at real size, random weights. See --help.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include "bench/common/bench_start.h"
#include "bench/common/op_flops.h"
#include "engine/common/host_memory.h"
#include "engine/common/huge_page_allocator.h"
#include "engine/common/runtime.h"
#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/vae_module.h"
#include "engine/models/vae/winograd_conv.h"

namespace {

using videogen::bench::CountConvFlops;
using videogen::bench::MedianSeconds;
using videogen::bench::Seconds;
using namespace videogen::models::vae;

constexpr char kUsage[] =
    "usage: bench_vae [--parts encode,decode,decode22,conv] [--latent-frames T] [--size WxH] [--repeats R]\n"
    "                 [--conv-dtype fp32|bf16] [--winograd 0|1] [--winograd-tiles N] [--profile PREFIX]\n"
    "Wan VAE (random weights, fp32, CPU) at real size, driven chunk by chunk with the causal cache\n"
    "as WanVae runs it: encode of a 1 + 4 (T - 1) frame video, decode of a [C, T, H/s, W/s] latent\n"
    "(Wan2.1: C 16, s 8; decode22: the Wan2.2 TI2V-5B VAE, C 48, s 16). Defaults: --latent-frames 3\n"
    "(9 frames) --size 832x480 --repeats 1 (a first call and R steady-state calls). Prints\n"
    "seconds, GFLOP/s from counted convolution FLOPs, the peak RSS growth (VmHWM) of each part\n"
    "and the peak bytes of live tensors of >= 32 MiB (the huge page allocator's blocks; 0 with\n"
    "VIDEOGEN_HUGE_PAGES=0).\n"
    "T 21 is the 81-frame case (minutes to hours on a 2-core CPU). --conv-dtype bf16: the causal\n"
    "convolutions in bf16 over float32 activations (WanVaeOptions::conv_dtype; --placement vae=cpu:bf16).\n"
    "--winograd 0: float32 (kt, 3, 3) convolutions through oneDNN's direct convolution instead of\n"
    "WinogradConv (engine/models/vae/winograd_conv.h; sets VIDEOGEN_WINOGRAD=0). GFLOP/s count the\n"
    "direct convolution's FLOPs either way.\n"
    "conv (not in the default parts): one (3, 3, 3) convolution per decoder level at --size, 4 frames,\n"
    "WinogradConv (its weight transform included; --winograd-tiles N tiles per task, 0 = default)\n"
    "next to oneDNN's direct convolution, medians of R (>= 1) after a first call.\n"
    "--profile: one more call of each part, after its figures are taken, with every op recorded,\n"
    "PREFIX.PART.json (chrome://tracing).\n";

void RandomInit(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.normal_(0, 0.02);
  for (auto& b : m.buffers()) {
    if (b.is_floating_point()) b.normal_(0, 0.02);
  }
}

struct Run {
  double first_s = 0, steady_s = 0, flops = 0;
  uint64_t peak_growth = 0, peak = 0;
  uint64_t peak_mapped = 0;  // most bytes of large tensors live at once (huge page allocator)
};

std::string g_profile_prefix;  // --profile

// First call counts the FLOPs; the steady figure is the median of `repeats`.
// With --profile, one more call of `part`, every op recorded.
Run Measure(const char* part, const std::function<void()>& fn, int repeats) {
  Run r;
  videogen::bench::ResetPeakRss();
  videogen::ResetHugePagePeak();
  const uint64_t before = videogen::ProcessRssBytes();
  r.first_s = Seconds([&] { r.flops = CountConvFlops(fn); });
  r.steady_s = MedianSeconds(fn, repeats);
  const uint64_t peak = videogen::ProcessPeakRssBytes();
  r.peak_growth = peak > before ? peak - before : 0;
  r.peak = peak;
  r.peak_mapped = videogen::GetHugePageAllocatorStats().peak_mapped_bytes;
  if (!g_profile_prefix.empty()) {
    torch::autograd::profiler::RecordProfile guard(g_profile_prefix + "." + part + ".json");
    fn();
  }
  return r;
}

void Report(const char* part, const std::string& shape, const Run& r) {
  std::printf(
      "%s %s conv=%.1f GFLOP first=%.1f s (%.1f GFLOP/s) steady=%.1f s (%.1f GFLOP/s) "
      "peak_rss_growth=%.2f GB peak_rss=%.2f GB peak_large_tensors=%.2f GB\n",
      part, shape.c_str(), r.flops / 1e9, r.first_s, r.flops / r.first_s / 1e9, r.steady_s,
      r.steady_s > 0 ? r.flops / r.steady_s / 1e9 : 0.0, r.peak_growth / 1e9, r.peak / 1e9, r.peak_mapped / 1e9);
  std::fflush(stdout);
}

at::Tensor Decode(VaeModule& m, const at::Tensor& z) {
  const at::Tensor x = m.PrepareDecode(z);
  FeatCache cache;
  std::vector<at::Tensor> frames;
  for (int64_t t = 0; t < x.size(2); ++t) frames.push_back(m.DecodeChunk(x.slice(2, t, t + 1), cache, t == 0));
  return at::cat(frames, 2);
}

at::Tensor Encode(VaeModule& m, const at::Tensor& video) {
  FeatCache cache;
  std::vector<at::Tensor> outs;
  for (const auto& [b, e] : VaeModule::EncodeChunks(video.size(2)))
    outs.push_back(m.EncodeChunk(video.slice(2, b, e), cache));
  return m.Mu(at::cat(outs, 2));
}

// The decoder's (3, 3, 3) convolutions, one call each at the levels of a
// width x height output, four output frames: WinogradConv with its weight
// transform (tiles per task `tiles`, 0 = its default) next to oneDNN's direct
// convolution, medians of
// `repeats` (at least 1) after a first call.
void ConvParts(int64_t width, int64_t height, int repeats, int64_t tiles) {
  struct Level {
    int64_t channels, scale;
  };
  for (const Level& l : {Level{96, 1}, Level{192, 2}, Level{384, 4}, Level{384, 8}}) {
    const at::Tensor x = at::randn({1, l.channels, 6, height / l.scale, width / l.scale});
    const at::Tensor w = at::randn({l.channels, l.channels, 3, 3, 3}) * 0.01, b = at::zeros({l.channels});
    const double flops = 2.0 * l.channels * 4 * x.size(3) * x.size(4) * l.channels * 27;
    auto median = [&](const std::function<void()>& fn) {
      fn();  // first call
      return MedianSeconds(fn, std::max(1, repeats));
    };
    const double direct = median([&] { at::mkldnn_convolution(x, w, b, {0, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1); });
    // The weight transform included: the VAE transforms at every call.
    const double winograd = median([&] { WinogradConv(x, WinogradWeights(w), 3, b, {/*zero_frames=*/0, tiles}); });
    std::printf("conv C=%ld [%ld,%ld] 4 frames: direct %.1f ms (%.1f GFLOP/s) winograd %.1f ms (%.1f) ratio %.2f\n",
                l.channels, x.size(3), x.size(4), direct * 1e3, flops / direct / 1e9, winograd * 1e3,
                flops / winograd / 1e9, direct / winograd);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  std::string parts = "encode,decode,decode22";
  int64_t latent_frames = 3, width = 832, height = 480;
  int repeats = 1;
  int64_t winograd_tiles = 0;
  at::ScalarType conv_dtype = at::kFloat;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--parts")
      parts = v;
    else if (a == "--latent-frames")
      latent_frames = std::atoll(v.c_str());
    else if (a == "--repeats")
      repeats = std::max(0, std::atoi(v.c_str()));
    else if (a == "--conv-dtype" && (v == "fp32" || v == "bf16"))
      conv_dtype = v == "bf16" ? at::kBFloat16 : at::kFloat;
    else if (a == "--winograd-tiles")
      winograd_tiles = std::atoll(v.c_str());
    else if (a == "--winograd" && (v == "0" || v == "1")) {
      if (v == "0") setenv("VIDEOGEN_WINOGRAD", "0", /*overwrite=*/1);
    } else if (a == "--profile")
      g_profile_prefix = v;
    else if (a == "--size" && std::sscanf(v.c_str(), "%ldx%ld", &width, &height) == 2) {
    } else {
      std::fprintf(stderr, "bench_vae: bad argument %s %s\n%s", a.c_str(), v.c_str(), kUsage);
      return 2;
    }
  }
  if (!videogen::ConfigureTorchRuntime({}).ok()) return 1;
  torch::NoGradGuard no_grad;
  const int64_t frames = 1 + 4 * (latent_frames - 1);
  std::printf("threads=%d; %s convolutions%s; %ld latent frames (%ld video frames) at %ldx%ld; %d steady repeat(s)\n",
              at::get_num_threads(), conv_dtype == at::kBFloat16 ? "bf16 causal" : "fp32",
              videogen::EnvTurnsOff("VIDEOGEN_WINOGRAD") ? " (Winograd off)" : "", latent_frames, frames, width,
              height, repeats);
  auto has = [&](const char* p) { return (',' + parts + ',').find(std::string(",") + p + ",") != std::string::npos; };
  if (has("conv")) ConvParts(width, height, repeats, winograd_tiles);
  if (has("encode") || has("decode")) {
    const std::shared_ptr<VaeModule> m = MakeVaeModule(VaeConfig::Wan21());
    RandomInit(*m);
    SetCausalConvDtype(*m, conv_dtype);
    const int64_t s = m->config().spatial_stride();
    if (has("encode")) {
      const at::Tensor video = at::rand({1, 3, frames, height, width}) * 2 - 1;
      Report("wan21_encode",
             "[1,3," + std::to_string(frames) + "," + std::to_string(height) + "," + std::to_string(width) + "]",
             Measure("wan21_encode", [&] { Encode(*m, video); }, repeats));
    }
    if (has("decode")) {
      const at::Tensor z = at::randn({1, 16, latent_frames, height / s, width / s});
      Report("wan21_decode",
             "[16," + std::to_string(latent_frames) + "," + std::to_string(height / s) + "," +
                 std::to_string(width / s) + "]",
             Measure("wan21_decode", [&] { Decode(*m, z); }, repeats));
    }
  }
  if (has("decode22")) {
    const std::shared_ptr<VaeModule> m = MakeVaeModule(VaeConfig::Wan22());
    RandomInit(*m);
    SetCausalConvDtype(*m, conv_dtype);
    const int64_t s = m->config().spatial_stride();
    const at::Tensor z = at::randn({1, 48, latent_frames, height / s, width / s});
    Report("wan22_decode",
           "[48," + std::to_string(latent_frames) + "," + std::to_string(height / s) + "," + std::to_string(width / s) +
               "]",
           Measure("wan22_decode", [&] { Decode(*m, z); }, repeats));
  }
  return 0;
}
